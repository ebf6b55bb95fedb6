"""Deploying what was evaluated: quality x index bytes x search time for every Matryoshka dim and
embedding precision (float32, int8, binary), from one encoding. Entry point:
matrix.deployment_matrix."""
