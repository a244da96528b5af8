"""nngrade: graders for neural-network coursework."""
