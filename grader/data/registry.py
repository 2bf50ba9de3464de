"""The datasets cnngrade serves, as data: each array's shape and the sha256 of its raw bytes, where Keras caches
it, where a system package installs it, where it is downloaded from and which setting names a mirror.

An array's sha256 identifies the data, not a file: re-packed archives (a re-zipped .npz, Debian's re-compressed
.gz files) differ byte for byte while holding the same arrays.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

KERAS_BASE_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
SYSTEM_DATASETS_VARIABLE = "CNNGRADE_SYSTEM_DATASETS"  # where Debian's dataset-* packages install (tests move it)
SYSTEM_DATASETS = "/usr/share/datasets"
ARRAY_NAMES = ("x_train", "y_train", "x_test", "y_test")


@dataclass(frozen=True)
class ArraySpec:
    shape: tuple[int, ...]
    sha256: str


@dataclass(frozen=True)
class Dataset:
    name: str  # the spec's name and Keras' module: keras.datasets.<name>
    title: str  # in messages
    arrays: dict[str, ArraySpec]
    npz_names: tuple[str, ...]  # the .npz file names looked for in a --data folder; the first is Keras' own
    mirror_variable: str
    url: str  # the .npz's URL, or the base URL of the IDX files
    idx_files: dict[str, str] | None = None  # array -> IDX .gz file name, when Keras caches the dataset that way
    idx_folder: str | None = None  # the folder of those files, in Keras' cache and in the system's datasets

    @property
    def npz_name(self) -> str:
        return self.npz_names[0]

    def keras_source(self, cache: Path) -> Path:
        """Where Keras' own load_data keeps this dataset in its cache folder ``cache``."""
        return cache / (self.idx_folder if self.idx_folder else self.npz_name)

    def system_folder(self) -> Path | None:
        """A system package's folder of IDX files (Debian's dataset-fashion-mnist), if the dataset has one."""
        if not self.idx_folder:
            return None
        return Path(os.environ.get(SYSTEM_DATASETS_VARIABLE) or SYSTEM_DATASETS) / self.idx_folder

    def mirror(self) -> str:
        """The download URL: the mirror setting when set, else Keras' own."""
        return os.environ.get(self.mirror_variable, "").strip() or self.url

    def expected_file(self) -> str:
        shapes = ", ".join(f"{name} ({'x'.join(map(str, spec.shape))})" for name, spec in self.arrays.items())
        return (f"expected Keras' {self.npz_name}: a NumPy .npz archive (a zip file) holding the uint8 arrays "
                f"{shapes.replace(', y_test', ' and y_test')}")


def _arrays(x_train: str, y_train: str, x_test: str, y_test: str) -> dict[str, ArraySpec]:
    return {"x_train": ArraySpec((60000, 28, 28), x_train), "y_train": ArraySpec((60000,), y_train),
            "x_test": ArraySpec((10000, 28, 28), x_test), "y_test": ArraySpec((10000,), y_test)}


MNIST = Dataset(
    name="mnist", title="MNIST", npz_names=("mnist.npz",), mirror_variable="CNNGRADE_MNIST_URL",
    url=KERAS_BASE_URL + "mnist.npz",
    arrays=_arrays("741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
                   "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
                   "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
                   "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5"),
)

# Computed from Debian's dataset-fashion-mnist (0.0~git20200523.55506a9-1); cross-checked against Fashion-MNIST's
# published facts: 6000 images of each class in training and 1000 in test, y_train starting 9 0 0 3 0 2 7 2 5 5,
# pixel mean 0.2860 and standard deviation 0.3530 (train). Keras' fashion_mnist.py pins no file hash, and
# Debian's .gz files are re-compressed (their md5s differ from Zalando's), so only the arrays can identify the data.
FASHION_MNIST = Dataset(
    name="fashion_mnist", title="Fashion-MNIST", npz_names=("fashion_mnist.npz", "fashion-mnist.npz"),
    mirror_variable="CNNGRADE_FASHION_MNIST_URL", url=KERAS_BASE_URL, idx_folder="fashion-mnist",
    idx_files={"y_train": "train-labels-idx1-ubyte.gz", "x_train": "train-images-idx3-ubyte.gz",
               "y_test": "t10k-labels-idx1-ubyte.gz", "x_test": "t10k-images-idx3-ubyte.gz"},
    arrays=_arrays("2e487a6c89124f78f2d7521542223cafe96f7123c3ca13d447772ac6ecbb3012",
                   "657fbd221bfc9f4198cc14b5619cc33ec57c58dd0e47af4d99d6650759e869a7",
                   "c867c93ff95360594e8ec3287995350b824dd110b11595c0e13d5423f621867a",
                   "3d0e6c6ea990b53b6f8f500a41cac93881d981b315f84578b7d915342ade01e9"),
)

DATASETS: dict[str, Dataset] = {d.name: d for d in (MNIST, FASHION_MNIST)}


def how_to_provide(ds: Dataset) -> str:
    """Every source of ``ds``, in the order they are tried."""
    if ds.idx_files is None:
        held, cached, what = f"a folder holding {ds.npz_name}", ds.npz_name, f"{ds.url}"
        head = f"Provide {ds.title} in Keras' layout ({ds.npz_name} with x_train, y_train, x_test, y_test) with one of:"
        kept = "the file is kept only if its arrays verify"
    else:
        held = (f"a folder holding {' or '.join(ds.npz_names)}, a {ds.idx_folder}/ folder or the four IDX files "
                f"{', '.join(ds.idx_files.values())}")
        cached, what = f"{ds.idx_folder}/ (four .gz files)", f"the four IDX files from {ds.url}"
        head = f"Provide {ds.title} with one of (tried in this order):"
        kept = "they are kept only if their arrays verify"
    lines = [head, f"  --data PATH            (the .npz file, or {held})", "  CNNGRADE_DATA=PATH     (same meaning)",
             f"  ~/.keras/datasets/{cached} or $KERAS_HOME/datasets/{cached} (Keras' cache)"]
    system = ds.system_folder()
    if system is not None:
        lines.append(f"  {system}/ (Debian's package: apt-get install dataset-{ds.idx_folder})")
    lines += [f"or run once on a machine with internet, which downloads {what} into Keras' cache",
              f"({ds.mirror_variable}=URL downloads from a mirror instead; {kept})."]
    return "\n".join(lines)
