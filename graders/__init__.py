"""nngrade: graders for neural-network coursework."""

__version__ = "0.1.0"
