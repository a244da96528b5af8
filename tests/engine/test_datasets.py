"""IDX reading and the train/dev split, on files written here byte by byte."""

from __future__ import annotations

import gzip
import os
import pickle
import struct

import numpy as np
import pytest

from graders.engine.datasets import DataError, load_mnist, load_sklearn_digits, read_idx, train_dev_split


def write_idx(path, array, code=0x08, compress=False):
    header = bytes([0, 0, code, array.ndim]) + b"".join(struct.pack(">I", n) for n in array.shape)
    data = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    with (gzip.open if compress else open)(path, "wb") as fh:
        fh.write(data)


@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_round_trip(tmp_path, compress):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = tmp_path / ("x.gz" if compress else "x")
    write_idx(path, images, compress=compress)
    got = read_idx(path)
    assert got.dtype == np.uint8
    np.testing.assert_array_equal(got, images)


def test_read_idx_big_endian_ints(tmp_path):
    values = np.array([1, -2, 70000], dtype=np.int32)
    write_idx(tmp_path / "i", values, code=0x0C)
    np.testing.assert_array_equal(read_idx(tmp_path / "i"), values)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "bad magic"),
        (b"PK\x03\x04junk", "bad magic"),
        (bytes([0, 0, 8, 1, 0, 0, 0, 5, 1, 2]), "holds 2"),
    ],
)
def test_read_idx_rejects_malformed_files(tmp_path, content, message):
    path = tmp_path / "bad"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        read_idx(path)


def test_read_idx_reports_a_corrupt_gzip(tmp_path):
    path = tmp_path / "bad.gz"
    path.write_bytes(b"not gzip at all")
    with pytest.raises(DataError, match="cannot read"):
        read_idx(path)


def test_load_mnist_checks_images_and_labels_agree(tmp_path):
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((3, 2, 2), dtype=np.uint8))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(4, dtype=np.uint8), compress=True)
    with pytest.raises(DataError, match="do not match"):
        load_mnist(tmp_path)


def test_split_standardises_with_training_statistics_only():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(50, 4, 4)).astype(np.uint8)
    labels = np.arange(50) % 10
    split = train_dev_split(images, labels, 30, 20, seed=0)
    assert split.train_x.shape == (30, 16) and split.dev_x.shape == (20, 16)
    assert split.train_x.dtype == np.float32
    assert float(split.train_x.mean()) == pytest.approx(0, abs=1e-6)
    assert float(split.train_x.std()) == pytest.approx(1, rel=1e-5)
    # Every example lands in exactly one part, with its own label.
    order = np.random.RandomState(0).permutation(50)
    np.testing.assert_array_equal(np.concatenate([split.train_y, split.dev_y]), labels[order])
    with pytest.raises(DataError, match="only 50"):
        train_dev_split(images, labels, 40, 20)


def test_npz_and_pickle_forms(tmp_path):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(20, 28, 28)).astype(np.uint8)
    labels = np.arange(20) % 10
    np.savez(
        tmp_path / "mnist.npz",
        x_train=images[:15],
        y_train=labels[:15],
        x_test=images[15:],
        y_test=labels[15:],
    )
    npz = load_mnist(tmp_path / "mnist.npz")
    np.testing.assert_array_equal(npz["train"][0], images[:15])
    np.testing.assert_array_equal(npz["test"][1], labels[15:])

    flat = (images.reshape(20, -1) / 255).astype(np.float32)
    parts = ((flat[:10], labels[:10]), (flat[10:15], labels[10:15]), (flat[15:], labels[15:]))
    with gzip.open(tmp_path / "mnist.pkl.gz", "wb") as fh:
        pickle.dump(parts, fh)
    pkl = load_mnist(tmp_path / "mnist.pkl.gz")
    assert pkl["train"][0].shape == (15, 784)
    np.testing.assert_array_equal(pkl["test"][1], labels[15:])


def test_pickle_that_would_run_code_is_refused(tmp_path):
    class Payload:
        def __reduce__(self):
            return (os.system, ("touch " + str(tmp_path / "pwned"),))

    with gzip.open(tmp_path / "mnist.pkl.gz", "wb") as fh:
        pickle.dump(Payload(), fh)
    with pytest.raises(DataError, match="refusing to load"):
        load_mnist(tmp_path / "mnist.pkl.gz")
    assert not (tmp_path / "pwned").exists()


def test_npz_with_objects_is_refused(tmp_path):
    np.savez(tmp_path / "bad.npz", x_train=np.array([object()], dtype=object), y_train=np.zeros(1))
    with pytest.raises(DataError, match="cannot read"):
        load_mnist(tmp_path / "bad.npz")


def test_sklearn_digits_read_without_sklearn_match_its_loader():
    """The CSV read directly gives exactly what scikit-learn's own load_digits() returns."""
    from sklearn.datasets import load_digits

    images, labels = load_sklearn_digits()
    bunch = load_digits()
    assert images.shape == (1797, 8, 8) and labels.dtype == np.int64
    np.testing.assert_array_equal(images, bunch.images)
    np.testing.assert_array_equal(labels, bunch.target)
