"""The command line, called as main(argv) in-process."""

from __future__ import annotations

import pytest

from graders.engine.cli import main


def test_demo_on_bundled_digits_prints_q1_and_training(capsys):
    assert main(["demo", "--quiet", "--epochs", "2"]) == 0
    out = capsys.readouterr().out
    assert "g_w1" in out and "0.349756" in out  # df/dw1 at the handout point, checked by torch in test_hw2
    assert "scikit-learn" in out
    assert "-20; (-8, 6, 2, 0)" in out  # seed 004's graph, as its sheet prints it
    for title in ("linear classifier", "MLP, one hidden layer", "MLP, two hidden layers + skip"):
        assert title in out


def test_demo_with_mnist_dir(capsys, mnist_dir):
    assert main(["demo", "--quiet", "--epochs", "1", "--mnist", str(mnist_dir)]) == 0
    assert "8000 train / 2000 dev" in capsys.readouterr().out


def test_demo_with_missing_mnist_dir_says_so(capsys, tmp_path):
    assert main(["demo", "--quiet", "--mnist", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert "nope" in err and "does not exist" in err


def test_demo_with_empty_mnist_dir_lists_expected_files(capsys, tmp_path):
    assert main(["demo", "--quiet", "--mnist", str(tmp_path)]) == 2
    assert "t10k-images-idx3-ubyte[.gz]" in capsys.readouterr().err


def test_bad_epochs_is_a_usage_error(capsys):
    assert main(["demo", "--epochs", "0"]) == 2
    assert "--epochs must be at least 1" in capsys.readouterr().err


def test_no_command_prints_usage(capsys):
    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 2
    assert "usage: nngrade" in capsys.readouterr().err
