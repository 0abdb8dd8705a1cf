"""Datasets: the procedural shapes dataset (pure torch) and real-image loaders."""

from srngan.data.procedural import ShapesDataset, class_names
from srngan.data.real import DATASETS, DatasetNotFoundError, load_real_dataset

__all__ = ["DATASETS", "DatasetNotFoundError", "ShapesDataset", "class_names", "load_real_dataset"]
