"""The grader's own computation of the lesson's results, and the hidden image it is also run on."""
from __future__ import annotations

import secrets

import numpy as np

from grader.arrays.spec import Orientation


def oriented(kernel: np.ndarray, orientation: Orientation) -> np.ndarray:
    """The kernel as a cross-correlation kernel in numpy order: k[a, b] weights i[x+a-1, y+b-1]."""
    if orientation == "lesson":  # filter[r][c] weights i[x+c-1, y+r-1]
        return kernel.T
    if orientation == "convolution":
        return kernel[::-1, ::-1]
    return kernel


def correlate(image: np.ndarray, kernel: np.ndarray, weight: float, orientation: Orientation) -> np.ndarray:
    """The unclipped filter response times ``weight`` at every interior pixel (shape: image less a 1-pixel rim)."""
    k = oriented(np.asarray(kernel, dtype=np.float64), orientation)
    img = image.astype(np.float64)
    rows, cols = img.shape
    out = np.zeros((rows - 2, cols - 2))
    for a in range(3):
        for b in range(3):
            out += k[a, b] * img[a:a + rows - 2, b:b + cols - 2]
    return out * weight


def transform(image: np.ndarray, kernel: np.ndarray, weight: float, orientation: Orientation,
              clip: tuple[float, float]) -> np.ndarray:
    """``i_transformed`` as exact floats: the image with its interior replaced by the clipped response."""
    out = image.astype(np.float64)
    out[1:-1, 1:-1] = np.clip(correlate(image, kernel, weight, orientation), *clip)
    return out


def max_pool(values: np.ndarray, size: int, stride: int) -> np.ndarray:
    """Max over size x size windows taken every ``stride`` pixels (stride 1: the overlapping slip)."""
    rows = (values.shape[0] - size) // stride + 1
    cols = (values.shape[1] - size) // stride + 1
    windows = [values[a:a + stride * rows:stride, b:b + stride * cols:stride][:rows, :cols]
               for a in range(size) for b in range(size)]
    return np.max(np.stack(windows), axis=0)


def hidden_image(shape: tuple[int, int], seed: int | None = None) -> np.ndarray:
    """A 512x512 8-bit image only this grading knows (a fresh secret seed by default).

    It has what makes each slip show: smooth gradients (small responses), hard-edged blocks, a disc and isolated
    black and white specks (responses far outside [0, 255], so clipping matters), texture, and no symmetry between
    rows and columns (a transposed result differs): margin, clipping, orientation and pooling mistakes all show.
    """
    rng = np.random.default_rng(secrets.randbits(64) if seed is None else seed)
    rows, cols = shape
    y, x = np.mgrid[0:rows, 0:cols].astype(np.float64)
    angle = rng.uniform(0, np.pi)
    image = 128 + 100 * np.sin((np.cos(angle) * x + np.sin(angle) * y) / rng.uniform(20, 60))
    image += rng.uniform(-0.3, 0.3) * x - rng.uniform(-0.2, 0.2) * y
    for _ in range(int(rng.integers(12, 20))):  # hard-edged rectangles of random brightness
        r0, c0 = int(rng.integers(0, max(1, rows - 40))), int(rng.integers(0, max(1, cols - 40)))
        h, w = int(rng.integers(4, max(5, rows // 3))), int(rng.integers(4, max(5, cols // 5)))
        image[r0:r0 + h, c0:c0 + w] = rng.uniform(0, 255)
    cy, cx, radius = rng.uniform(0.3, 0.7) * rows, rng.uniform(0.2, 0.5) * cols, rng.uniform(40, 90)
    image[(y - cy) ** 2 + (x - cx) ** 2 < radius ** 2] = rng.choice([0.0, 255.0])
    image += rng.normal(0, 12, shape) * (x > cols * rng.uniform(0.5, 0.8))  # a textured region
    specks = rng.random(shape) < 0.02  # isolated black and white pixels: responses far beyond [0, 255]
    image[specks] = rng.choice([0.0, 255.0], size=int(specks.sum()))
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)
