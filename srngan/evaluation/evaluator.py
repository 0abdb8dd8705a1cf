"""The one evaluation path: any image source against any real side, on any list of metrics.

``srngan evaluate --ckpt``, ``srngan evaluate --real/--fake``, ``srngan stats`` and the training
callback (:class:`srngan.training.metrics_callback.MetricsCallback`) all call :class:`Evaluator`:

1. :meth:`Evaluator.check` finds every misconfiguration the settings, sources and sizes reveal
   (before any image is generated; the callback calls it before training starts);
2. :meth:`Evaluator.reference` gives each real side as a :class:`~srngan.evaluation.reference.Reference`:
   from memory, the on-disk cache, or one pass over the real images that accumulates every
   missing part at once;
3. one pass over the generated (or given) images extracts each batch once and feeds every
   metric that needs those features, against every reference (e.g. the train and test splits);
   Intra-FID of a generator adds one conditioned pass per class (the paper's protocol); ND and
   eLhist sample on their own (:mod:`srngan.evaluation.protocols`).

Pure torch + torchmetrics (no Lightning). Under ``torch.distributed`` each process takes its
share of every pass and torchmetrics syncs the float64 states, so the result equals that of one
process up to float64 summation order.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence

import torch
from torch import Tensor, nn
from torchmetrics import Metric
from torchmetrics.classification import MulticlassAccuracy

from srngan.evaluation import extractors
from srngan.evaluation.extractors import Extractor
from srngan.evaluation.protocols import dataset_labels, elhist_of, neural_divergence_of
from srngan.evaluation.reference import PART_OF_METRIC, RealFeatures, Reference, finish
from srngan.evaluation.settings import EvalSettings
from srngan.evaluation.sources import DatasetImages, GeneratorImages, ImageSet, ImageSource
from srngan.metrics import keys
from srngan.metrics.cache import cache_key, lookup, store
from srngan.metrics.density_coverage import DensityCoverage
from srngan.metrics.elhist import percentile_95
from srngan.metrics.fid import FrechetInceptionDistance
from srngan.metrics.inception import resolve_weights
from srngan.metrics.inception_score import InceptionScore
from srngan.metrics.intra_fid import IntraFID
from srngan.metrics.kid import KernelInceptionDistance
from srngan.metrics.precision_recall import PrecisionRecall
from srngan.metrics.vgg import resolve_vgg16_weights
from srngan.ranks import process_rank, world_size

FEATURE_METRICS = ("is", "fid", "kid", "intra_fid", "prc", "dc")
SET_METRICS = ("prc", "dc")  # k-NN set metrics, on the set extractor's features
REAL_METRICS = ("fid", "kid", "prc", "dc")  # num_samples generated images against num_real real
REFERENCED = ("fid", "kid", "intra_fid", "prc", "dc")  # computed once per reference
IS_SPLITS = 10  # torch-fidelity's and the paper's
CACHE_VERSION = 3  # bump when the cached objects change

Real = ImageSource | Reference


class Evaluator:
    """Metrics of image sources against real sides, from settings (see the module docstring).

    Args:
        settings: which metrics, how many images, the extractor.
        device: where the extractors run.
        extractor: the main extractor (``uint8 images -> (features, logits)``); ``None`` builds
            the settings' (Inception, or the domain classifier of ``domain_classes`` classes at
            ``resolution``) on first use.
        set_extractor: precision / recall and density / coverage's extractor; ``None``: VGG-16
            beside a settings-built Inception, else the main extractor.
        domain_classes, resolution: the procedural data of the domain extractor.

    Example:
        >>> ev = Evaluator(EvalSettings(metrics=("fid", "kid")), "cuda")
        >>> real = DatasetImages(dm.make_dataset("train"), key=dm.reference_key("train"))
        >>> fake = GeneratorImages(lambda z, y: G(z, y), G.z_dim, G.num_classes, "cuda")
        >>> results, _ = ev.evaluate(fake, real)
    """

    def __init__(
        self,
        settings: EvalSettings,
        device: torch.device | str = "cpu",
        *,
        extractor: Extractor | None = None,
        set_extractor: Extractor | None = None,
        domain_classes: int = 0,
        resolution: int = 32,
    ) -> None:
        self.settings = settings
        self.device = torch.device(device)
        self._extractor = extractor
        self._set_extractor = set_extractor
        self._built_main = extractor is None
        self.domain_classes = domain_classes
        self.resolution = resolution
        # Reference parts already computed or loaded: (memo key) -> (source, value).
        self._memo: dict[str, tuple[object, object]] = {}

    # ------------------------------------------------------------------ extractors
    @property
    def extractor(self) -> Extractor:
        """The main extractor (built from the settings on first use)."""
        if self._extractor is None:
            self._extractor = extractors.build_extractor(
                self.settings, self.domain_classes, self.resolution, self.device
            )
        return self._extractor

    @property
    def set_extractor(self) -> Extractor:
        """The set metrics' extractor: VGG-16 beside Inception, else the main one."""
        if self._set_extractor is None:
            if self._built_main and self.settings.extractor == "inception":
                self._set_extractor = extractors.build_set_extractor(self.settings, self.device)
            else:
                self._set_extractor = self.extractor
        return self._set_extractor

    # ------------------------------------------------------------------ checks
    def check_weights(self, metrics: Sequence[str] | None = None) -> None:
        """A one-line ``FileNotFoundError`` when the weights the settings' extractors need for
        ``metrics`` are not on disk (and may not be downloaded)."""
        s, wanted = self.settings, set(self._wanted(metrics))
        if self._built_main and s.extractor == "inception" and wanted & set(FEATURE_METRICS):
            resolve_weights(s.inception_weights, s.download_weights)
            if wanted & set(SET_METRICS) and self._set_extractor is None:
                resolve_vgg16_weights(s.vgg16_weights, s.download_weights)

    def check(
        self,
        fake: ImageSource,
        real: Real | Mapping[str, Real] | None = None,
        metrics: Sequence[str] | None = None,
        *,
        heldout=None,
        discriminator: nn.Module | None = None,
    ) -> None:
        """Raise a one-line error for anything that would fail later: missing extractor weights
        (``FileNotFoundError``), metrics the sources cannot give and counts that do not fit
        (``ValueError``). Cheap: no network is built, no image read or generated (label arrays
        at most)."""
        s, wanted = self.settings, self._wanted(metrics)
        refs = _named(real)
        gen = isinstance(fake, GeneratorImages)
        self.check_weights(wanted)  # first: without them nothing else can be measured
        what = {name: (f"the {name} split" if name else "the reference") for name in refs}
        if s.extractor == "domain" and self._built_main:
            for r in refs.values():
                data = getattr(r, "dataset", None)
                if data is not None and not _procedural(data):
                    raise ValueError(
                        "the domain extractor is a classifier of the procedural shapes only, got "
                        f"{type(data).__name__} data; use extractor inception"
                    )
        if "intra_fid" in wanted and fake.num_classes < 1:
            raise ValueError(
                "intra_fid needs a conditional generator (num_classes >= 1)"
                if gen
                else "intra_fid needs class labels of the generated images"
            )
        needs_ref = [m for m in wanted if m in REFERENCED]
        if needs_ref and not refs:
            raise ValueError(f"{', '.join(needs_ref)} need real images to compare against")
        for name, r in refs.items():
            if isinstance(r, Reference):
                for m in needs_ref:
                    if PART_OF_METRIC[m] not in r.parts():
                        raise ValueError(
                            f"{what[name]} is given as statistics ({', '.join(sorted(r.parts()))}"
                            f" only): {m} needs the real images"
                        )
            elif isinstance(r, GeneratorImages):
                raise ValueError("the real side must be images (a dataset, a folder, an .npz)")
        for m in ("nd", "elhist"):
            if m in wanted and not gen:
                raise ValueError(f"{m} needs a generator (a checkpoint), not a set of images")
        datasets = [r for r in refs.values() if isinstance(r, DatasetImages)]
        if "nd" in wanted and heldout is None and not datasets:
            raise ValueError("nd needs held-out real images (a dataset)")
        if "elhist" in wanted and discriminator is not None and not datasets:
            raise ValueError("elhist needs real images of a dataset")
        # Counts: every metric's minimum, on both sides.
        n_fake = _count(fake, s.num_samples) if set(wanted) & set(REAL_METRICS) else None
        n_is = _count(fake, s.num_is_samples) if "is" in wanted else None
        if isinstance(fake, DatasetImages) and max(n_fake or 0, n_is or 0) > fake.size:
            raise ValueError(
                f"asked for {max(n_fake or 0, n_is or 0)} images but the evaluated dataset has "
                f"{fake.size}; lower num_samples / num_is_samples"
            )
        if n_is is not None:
            if n_is < IS_SPLITS:
                raise ValueError(
                    f"Inception Score needs at least {IS_SPLITS} images for its {IS_SPLITS} "
                    f"splits, got {n_is}"
                )
        if "intra_fid" in wanted and gen and s.intra_fid_samples_per_class < 2:
            raise ValueError(
                f"intra_fid needs intra_fid_samples_per_class >= 2, got "
                f"{s.intra_fid_samples_per_class}"
            )
        for name, r in refs.items():
            if isinstance(r, Reference):
                continue
            real_metrics = [m for m in wanted if m in REAL_METRICS]
            if real_metrics and isinstance(r, DatasetImages) and s.num_real > r.size:
                raise ValueError(
                    f"num_real={s.num_real} but {what[name]} has {r.size} images; set "
                    f"num_real <= {r.size}"
                )
            n_real = s.num_real if isinstance(r, DatasetImages) else r.size
            for m in real_metrics:
                _check_pair(m, n_fake, n_real, s)
            if "intra_fid" in wanted:
                _check_classes(r, fake.num_classes, what[name])

    # ------------------------------------------------------------------ evaluation
    def evaluate(
        self,
        fake: ImageSource,
        real: Real | Mapping[str, Real] | None = None,
        metrics: Sequence[str] | None = None,
        *,
        heldout=None,
        discriminator: nn.Module | None = None,
        stop_point: Callable[[], None] | None = None,
    ) -> tuple[dict[str, float], dict[str, Tensor]]:
        """``(scalar results, eLhist arrays)`` of ``fake`` against ``real``.

        Args:
            fake: the images to evaluate (a generator, an image set, a dataset).
            real: one real side (results under the plain keys) or ``{split: real side}``
                (results of each split keyed by :func:`srngan.metrics.keys.with_split`; IS,
                class accuracy, ND and eLhist once). A real side is an :class:`ImageSource` or
                a :class:`Reference` (e.g. ``Reference.from_statistics``).
            metrics: overrides the settings' metric list.
            heldout: real images of Neural Divergence's critic (default: the first dataset).
            discriminator: eLhist's network (``elhist`` is skipped without one).
            stop_point: called after each Neural Divergence critic step and eLhist chunk (the
                long, equally long on every process, parts); it may raise to abandon the
                evaluation (``srngan fit`` stops there on a preemption signal).
        """
        s, wanted = self.settings, self._wanted(metrics)
        self.check(fake, real, wanted, heldout=heldout, discriminator=discriminator)
        refs = _named(real)
        results: dict[str, float] = {}
        feature = [m for m in FEATURE_METRICS if m in wanted]
        if feature:
            results.update(self._feature_results(fake, refs, feature))
        arrays: dict[str, Tensor] = {}
        datasets = [r.dataset for r in refs.values() if isinstance(r, DatasetImages)]
        if "nd" in wanted:
            data = heldout if heldout is not None else datasets[0]
            results[keys.KEY_ND] = neural_divergence_of(
                s, fake, data, data[0][0].shape[-1], stop_point
            )
        if "elhist" in wanted and discriminator is not None:
            arrays = elhist_of(s, fake, datasets[0], discriminator, stop_point)
            results.update({f"elhist_{k}_p95": percentile_95(v) for k, v in arrays.items()})
        return results, arrays

    def _wanted(self, metrics: Sequence[str] | None) -> tuple[str, ...]:
        wanted = tuple(self.settings.metrics if metrics is None else metrics)
        unknown = [m for m in wanted if m not in keys.METRICS]
        if unknown:
            raise ValueError(
                f"unknown metric(s) {', '.join(unknown)}; allowed: {', '.join(keys.METRICS)}"
            )
        return wanted

    def _feature_results(
        self, fake: ImageSource, refs: dict[str | None, Real], wanted: list[str]
    ) -> dict[str, float]:
        s, ex = self.settings, self.extractor
        sx = self.set_extractor if set(wanted) & set(SET_METRICS) else None
        gen = isinstance(fake, GeneratorImages)
        n_stats = _count(fake, s.num_samples) if set(wanted) & set(REAL_METRICS) else 0
        n_is = _count(fake, s.num_is_samples) if "is" in wanted else 0
        # An image set's labels feed Intra-FID in the main pass; a generator is conditioned on
        # each class in turn below.
        intra_in_pass = "intra_fid" in wanted and not gen
        n = fake.size if intra_in_pass else max(n_stats, n_is)
        shared: dict[str, Metric] = {}
        if "is" in wanted:
            shared["is"] = InceptionScore(ex, num_samples=n_is, num_logits=ex.num_logits)
        if s.extractor == "domain" and gen and fake.num_classes:
            shared["accuracy"] = MulticlassAccuracy(
                ex.num_logits, average="micro", validate_args=False
            )
        shared = {k: m.to(self.device) for k, m in shared.items()}
        per_ref = {
            name: self._referenced(self.reference(r, wanted, fake.num_classes), wanted, fake)
            for name, r in refs.items()
        }
        rank, world = _shard()
        for batch in fake.batches(n, s.batch_size, s.seed, rank, world) if n else []:
            images = batch.images.to(self.device)
            features, logits = ex(images)
            idx = batch.indices
            if "is" in shared:
                m = idx < n_is
                shared["is"].update(indices=idx[m], logits=logits[m.to(logits.device)])
            m = (idx < n_stats).to(features.device)
            set_features = None
            if sx is not None and bool(m.any()):
                # Only the rows the set metrics read (not the IS-only ones): VGG-16 is costly.
                set_features = features[m] if sx is ex else sx(images[m.to(self.device)])[0]
            for metrics in per_ref.values():
                if "fid" in metrics:
                    metrics["fid"].update(None, real=False, features=features[m])
                if "kid" in metrics:
                    metrics["kid"].update(
                        None, real=False, indices=idx[m.cpu()], features=features[m]
                    )
                for name in SET_METRICS:
                    if name in metrics and set_features is not None:
                        metrics[name].update(None, real=False, features=set_features)
                if intra_in_pass:
                    metrics["intra_fid"].update(None, batch.labels, real=False, features=features)
            if "accuracy" in shared and batch.labels is not None:
                shared["accuracy"].update(logits, batch.labels.to(logits.device))
        if "intra_fid" in wanted and gen:
            # Miyato & Koyama's protocol: N images conditioned on each class (sample i of every
            # class shares latent i), against all real images of that class.
            per_class = s.intra_fid_samples_per_class
            for c in range(fake.num_classes):
                for batch in fake.batches(per_class, s.batch_size, s.seed, rank, world, c):
                    features, _ = ex(batch.images.to(self.device))
                    labels = torch.full((features.shape[0],), c, dtype=torch.int64)
                    for metrics in per_ref.values():
                        metrics["intra_fid"].update(None, labels, real=False, features=features)
        rename = _domain_names if s.extractor == "domain" else dict
        found = rename(results_of({"is": shared["is"]} if "is" in shared else {}))
        for i, (name, metrics) in enumerate(per_ref.items()):
            split = rename(results_of(metrics))
            found.update(keys.with_split(split, name) if name else split)
            if i == 0 and "accuracy" in shared:
                found.update(rename(results_of({"accuracy": shared["accuracy"]})))
        if not per_ref and "accuracy" in shared:
            found.update(rename(results_of({"accuracy": shared["accuracy"]})))
        return found

    def _referenced(self, ref: Reference, wanted: list[str], fake: ImageSource) -> dict:
        """Fresh generated-side metrics against one reference."""
        s, ex, out = self.settings, self.extractor, {}
        if "fid" in wanted:
            out["fid"] = FrechetInceptionDistance(
                ex, feature_dim=ex.feature_dim, reference=ref.stats, reference_factor=ref.factor
            )
        if "kid" in wanted:
            out["kid"] = KernelInceptionDistance(
                ex, feature_dim=ex.feature_dim, subsets=s.kid_subsets,
                subset_size=s.kid_subset_size, reference=ref.features,
            )  # fmt: skip
        for name, cls, k in (("prc", PrecisionRecall, s.prc_neighbours),
                             ("dc", DensityCoverage, s.dc_neighbours)):  # fmt: skip
            if name in wanted:
                sx = self.set_extractor
                out[name] = cls(
                    sx, feature_dim=sx.feature_dim, k=k, reference=ref.set_features,
                    reference_radii=ref.radii.get(k),
                )  # fmt: skip
        if "intra_fid" in wanted:
            out["intra_fid"] = IntraFID(
                fake.num_classes, ex, feature_dim=ex.feature_dim, reference=ref.per_class,
                reference_factors=ref.class_factors,
            )  # fmt: skip
        return {k: m.to(self.device) for k, m in out.items()}

    # ------------------------------------------------------------------ reference side
    def reference(
        self, real: Real, metrics: Sequence[str] | None = None, num_classes: int = 0
    ) -> Reference:
        """The real side the ``metrics`` need (default: the settings'), as a :class:`Reference`:
        each part from memory, else the disk cache (when ``real.key`` is set), else one pass
        over ``real`` that accumulates every missing part.

        Args:
            num_classes: classes of Intra-FID's per-class statistics.
        """
        wanted = self._wanted(metrics)
        parts = sorted({PART_OF_METRIC[m] for m in wanted if m in PART_OF_METRIC})
        ex = self.extractor if set(parts) & {"stats", "features", "classes"} else None
        if isinstance(real, Reference):
            if real.stats is not None and ex is not None:
                got, want = real.stats.total.shape[0], ex.feature_dim
                if got != want:
                    raise ValueError(
                        f"reference statistics have dimension {got}, but the extractor's "
                        f"features have {want}"
                    )
            return real
        s = self.settings
        n = s.num_real if isinstance(real, DatasetImages) else real.size
        ks = sorted({s.prc_neighbours, s.dc_neighbours})
        settings = {
            "stats": {"num_real": n, "seed": s.seed},
            "features": {"num_real": n, "seed": s.seed},
            "set": {"num_real": n, "seed": s.seed, "ks": ks, "set": self._set_key(parts)},
            "classes": {"count": real.size, "classes": num_classes},
        }
        values, hits, missing = {}, {}, []
        for part in parts:
            fields = {**settings[part], "extractor": ex.key if ex and part != "set" else None}
            key = None
            if real.key is not None:
                key = cache_key(reference=real.key, settings=fields, version=CACHE_VERSION)
            memo = (
                f"{part}-{key}" if key else f"{part}-{id(real)}-{json.dumps(fields, default=str)}"
            )
            if memo in self._memo:
                values[part] = self._memo[memo][1]
                continue
            value, hit = lookup(f"reference-{part}", key) if key else (None, False)
            if hit:
                values[part], hits[part] = value, True
                self._memo[memo] = (real, value)
            else:
                missing.append((part, key, memo))
        if missing:
            computed = self._accumulate(real, {p for p, _, _ in missing}, n, num_classes, ks)
            for part, key, memo in missing:
                values[part], hits[part] = computed[part], False
                self._memo[memo] = (real, computed[part])
                if key:
                    store(f"reference-{part}", key, computed[part])
        ref = Reference(cache_hits=hits)
        if "stats" in values:
            ref.stats, ref.factor = values["stats"]
        if "features" in values:
            ref.features = values["features"]
        if "set" in values:
            ref.set_features, ref.radii = values["set"]
        if "classes" in values:
            ref.per_class, ref.class_factors = values["classes"]
        return ref

    def _set_key(self, parts: list[str]) -> dict | None:
        return self.set_extractor.key if "set" in parts else None

    def _accumulate(
        self, real: ImageSource, parts: set[str], n: int, num_classes: int, ks: list[int]
    ) -> dict[str, object]:
        """One pass over ``real``: the ``parts``' values (see :meth:`reference`)."""
        s = self.settings
        main = parts & {"stats", "features", "classes"}
        ex = self.extractor if main else None
        sx = self.set_extractor if "set" in parts else None
        acc = RealFeatures(
            parts, ex.feature_dim if ex else 1, sx.feature_dim if sx else 1, num_classes
        ).to(self.device)
        total = real.size if "classes" in parts else n
        rank, world = _shard()
        for batch in real.batches(total, s.batch_size, s.seed, rank, world):
            images = batch.images.to(self.device)
            subset = batch.indices < n
            features = ex(images)[0] if ex else None
            set_features = None
            if sx is not None and bool(subset.any()):
                if sx is ex:
                    set_features = features[subset.to(features.device)]
                else:
                    set_features = sx(images[subset.to(self.device)])[0]
            acc.update(batch.indices, features, subset, batch.labels, set_features)
        ref = finish(acc.compute(), ks)
        return {
            "stats": (ref.stats, ref.factor),
            "features": ref.features,
            "set": (ref.set_features, ref.radii),
            "classes": (ref.per_class, ref.class_factors),
        }


# ---------------------------------------------------------------------- helpers
def _shard() -> tuple[int, int]:
    """``(rank, world size)`` of this evaluation: the process group's; alone without one,
    whatever the launcher's environment says (a process evaluates all of its images)."""
    return process_rank(from_environment=False), world_size(from_environment=False)


def _named(real) -> dict[str | None, Real]:
    if real is None:
        return {}
    if isinstance(real, Mapping):
        return dict(real)
    return {None: real}


def _count(source: ImageSource, setting: int) -> int:
    """How many images of ``source`` a metric reads: all of an image set, else ``setting``
    (samples of a generator, a random subset of a dataset)."""
    return source.size if isinstance(source, ImageSet) else setting


def _procedural(data) -> bool:
    from srngan.data.procedural import ShapesDataset

    return isinstance(data, ShapesDataset)


def _check_pair(metric: str, n_fake: int, n_real: int, s: EvalSettings) -> None:
    """Both sides of a generated-vs-real metric are large enough."""
    sides = (("generated", n_fake), ("real", n_real))
    if metric == "fid":
        for side, n in sides:
            if n < 2:
                raise ValueError(f"FID needs at least 2 {side} images, got {n}")
    elif metric == "kid":
        if min(n_fake, n_real) < s.kid_subset_size:
            raise ValueError(
                f"KID subset size {s.kid_subset_size} exceeds the images available ({n_fake} "
                f"generated, {n_real} real); lower kid_subset_size or use more images"
            )
    else:
        k = s.prc_neighbours if metric == "prc" else s.dc_neighbours
        for side, n in sides:
            if n < k + 1:
                raise ValueError(
                    f"{metric} with k = {k} needs at least {k + 1} {side} images, got {n}"
                )


def _check_classes(real: ImageSource, num_classes: int, what: str) -> None:
    """Every class has >= 2 real images (checked when the labels are at hand without decoding
    images: an image set's, or a dataset's label array)."""
    labels = getattr(real, "labels", None)
    data = getattr(real, "dataset", None)
    if data is not None and any(getattr(data, a, None) is not None for a in ("labels", "targets")):
        labels = dataset_labels(data)
    if labels is None:
        if data is None:
            raise ValueError(f"intra_fid needs class labels of {what}")
        return
    counts = torch.bincount(labels[labels >= 0], minlength=num_classes)[:num_classes]
    if bool((counts < 2).any()):
        c = int((counts < 2).nonzero()[0, 0])
        raise ValueError(
            f"Intra-FID needs at least 2 real images of each class; class {c} of {what} has "
            f"{int(counts[c])}"
        )


def intra_fid_results(per_class: dict[int, float]) -> dict[str, float]:
    """Intra-FID (the mean) and each class's FID under their keys (``..._class_<c>``)."""
    out = {keys.KEY_INTRA_FID: sum(per_class.values()) / len(per_class)}
    out.update({f"{keys.KEY_INTRA_FID_CLASS}{c}": v for c, v in sorted(per_class.items())})
    return out


def results_of(metrics: Mapping[str, Metric]) -> dict[str, float]:
    """The computed metrics under their result keys (:mod:`srngan.metrics.keys`)."""
    out: dict[str, float] = {}
    for name, metric in metrics.items():
        if name == "intra_fid":  # the mean and each class's FID, from one synced computation
            out.update(intra_fid_results(metric.compute_per_class()))
            continue
        value = metric.compute()
        if name == "is":
            out[keys.KEY_IS_MEAN], out[keys.KEY_IS_STD] = (float(v) for v in value)
        elif name == "kid":
            out[keys.KEY_KID_MEAN], out[keys.KEY_KID_STD] = (float(v) for v in value)
        elif name == "fid":
            out[keys.KEY_FID] = float(value)
        elif name in SET_METRICS:
            out.update({key: float(v) for key, v in value.items()})
        elif name == "accuracy":
            out[keys.KEY_DOMAIN_ACCURACY] = float(value)
    return out


def _domain_names(found: dict[str, float]) -> dict[str, float]:
    """Domain-classifier results under their own names: never reported as Inception metrics."""
    renamed = {
        keys.KEY_FID: keys.KEY_DOMAIN_FID,
        keys.KEY_IS_MEAN: keys.KEY_DOMAIN_IS,
        keys.KEY_IS_STD: "domain_is_std",
        keys.KEY_KID_MEAN: "domain_kid_mean",
        keys.KEY_KID_STD: "domain_kid_std",
        keys.KEY_INTRA_FID: "domain_intra_fid",
        keys.KEY_DOMAIN_ACCURACY: keys.KEY_DOMAIN_ACCURACY,
        **{k: f"domain_{k}" for k in (keys.KEY_PRECISION, keys.KEY_RECALL, keys.KEY_F_SCORE,
                                      keys.KEY_DENSITY, keys.KEY_COVERAGE)},
    }  # fmt: skip
    per_class = keys.KEY_INTRA_FID_CLASS
    return {
        f"domain_intra_fid_class_{k.removeprefix(per_class)}"
        if k.startswith(per_class)
        else renamed[k]: v
        for k, v in found.items()
    }
