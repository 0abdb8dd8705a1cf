"""Training terms: ideas that join one phase of the GAN step, injected by ``class_path``.

Give them to :class:`srngan.GANModule` as ``terms`` (YAML, under ``model.init_args``)::

    terms:
      - {class_path: srngan.terms.MatchingAwareD, init_args: {weight: 1.0, candidates: 3}}
      - {class_path: srngan.terms.ModeSeeking, init_args: {weight: 0.25}}

A term of your own is one small subclass of :class:`DTerm` or :class:`GTerm` in your own
module (see the README, "Bring your own"). Pure torch: no Lightning here.
"""

from srngan.terms.base import DStep, DTerm, GStep, GTerm, Term
from srngan.terms.class_matching import ClassMatching
from srngan.terms.matching_aware import MatchingAwareD, wrong_labels
from srngan.terms.mode_seeking import ModeSeeking

__all__ = [
    "ClassMatching",
    "DStep",
    "DTerm",
    "GStep",
    "GTerm",
    "MatchingAwareD",
    "ModeSeeking",
    "Term",
    "wrong_labels",
]
