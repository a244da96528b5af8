"""Numpy reference solutions for the seed exercises; imported only by the trusted grader."""
