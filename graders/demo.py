"""`nngrade demo`: the reference solutions at work, until the graders take over the main command.

It shows the by-hand exercises next to the numbers the source sheets print, then trains the
three hw2 models at the handout setting on real digits and reports dev accuracy per epoch.
"""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from graders.engine.datasets import Split, load_mnist, load_sklearn_digits, train_dev_split
from reference import graph, hw2, worked_examples
from reference.gradient_descent import hand_epochs

MODEL_TITLES = {
    "linear": "linear classifier",
    "single_hidden": "MLP, one hidden layer",
    "two_hidden": "MLP, two hidden layers + skip",
}


def load_digits_split(mnist: str | None) -> Split:
    """MNIST's test set split 8,000/2,000 when a directory is given, else scikit-learn's digits 80/20."""
    if mnist:
        splits = load_mnist(mnist)
        images, labels = splits["train"] if "train" in splits else splits["test"]
        n_dev = min(10000, len(images) // 5)
        which = "train" if "train" in splits else "test"
        return train_dev_split(
            images, labels, len(images) - n_dev, n_dev, source=f"MNIST {which} set from {mnist}"
        )
    images, labels = load_sklearn_digits()
    n_dev = len(images) // 5
    return train_dev_split(
        images,
        labels,
        len(images) - n_dev,
        n_dev,
        source="scikit-learn's bundled 8x8 handwritten digits (no MNIST directory given; use --mnist DIR)",
    )


def seeds_table() -> Table:
    """A few answers of each by-hand exercise, as the reference computes them."""
    table = Table(title="Seed exercises worked by the reference (all printed values: docs/errata.md)")
    for heading in ("exercise (seed file)", "quantity", "value"):
        table.add_column(heading, justify="right" if heading == "value" else "left")
    by_hand = hand_epochs(eta=0.5, x=1.0, t=1.0, w0=0.0, epochs=2)
    table.add_row(
        "gradient descent by hand (000)", "w after epochs 1, 2", f"{by_hand[0].w_new:g}, {by_hand[1].w_new:g}"
    )
    relu = worked_examples.comp9444_week2_q3()
    table.add_row(
        "2-2-2 ReLU net, one SGD step (000)",
        "E; w12, v21 after",
        f"{relu['E']:.5f}; {relu['w12_new']:.4f}, {relu['v21_new']:.5f}",
    )
    mazur = worked_examples.mazur_slides()
    table.add_row(
        "2-2-2 sigmoid net (001)",
        "E before, after one step",
        f"{mazur['E_total']:.6f}, {mazur['E_total_after']:.6f}",
    )
    exam = worked_examples.exam_two_layer()
    table.add_row(
        "2-2-2 ReLU net, MSE (003)", "dE/dw21; w21 after", f"{exam['dMSE_dw21']:g}; {exam['w21_new']:g}"
    )
    f, nodes = graph.tutorial_graph(3.0, -4.0, 2.0, -1.0)
    f.backward()
    grads = ", ".join(f"{nodes[k].grad:g}" for k in "xyzw")
    table.add_row("graph f = 2(xy + max(z, w)) (004)", "f; gradient (x, y, z, w)", f"{f.data:g}; ({grads})")
    return table


def q1_table() -> Table:
    """hw2 Q1 at the handout point: the four partials and the first and last of the 31 weights."""
    table = Table(title="hw2 Q1 at the handout point x=(0.2, 0.4), w=(0.3, -0.5)")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    point = hw2.Q1_START
    for name in ("g_w1", "g_w2", "g_x1", "g_x2"):
        table.add_row(name, f"{getattr(hw2, name)(**point):.6f}")
    w1s, w2s = hw2.q1_descent()
    table.add_row("w1 after 30 steps of 0.01", f"{w1s[-1]:.6f}")
    table.add_row("w2 after 30 steps of 0.01", f"{w2s[-1]:.6f}")
    return table


def train_all(split: Split, epochs: int, console: Console, quiet: bool) -> Table:
    """Train each hw2 model at batch 50, lr 0.005 and tabulate dev accuracy per epoch."""
    in_dim = split.train_x.shape[1]
    hidden = in_dim // 2  # the handout's 392 for 28x28 images
    table = Table(title=f"hw2 Q3: dev accuracy (batch 50, lr 0.005, hidden {hidden}, {epochs} epochs)")
    for heading in ("model", "epoch 1", f"epoch {epochs}", "best (epoch)"):
        table.add_column(heading, justify="left" if heading == "model" else "right")
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, disable=quiet, transient=True) as progress:
        for model, fn in hw2.MODELS.items():
            task = progress.add_task(MODEL_TITLES[model], total=epochs)
            params = hw2.init_params(model, in_dim, hidden)
            accs = hw2.main_training(
                params,
                fn,
                split.train_x,
                split.train_y,
                split.dev_x,
                split.dev_y,
                batch_size=50,
                learning_rate=0.005,
                nb_epochs=epochs,
                on_epoch=lambda _epoch, _acc, task=task: progress.advance(task),
            )
            best = max(range(epochs), key=accs.__getitem__)
            table.add_row(
                MODEL_TITLES[model], f"{accs[0]:.2%}", f"{accs[-1]:.2%}", f"{accs[best]:.2%} ({best + 1})"
            )
    return table


def run(mnist: str | None, epochs: int, quiet: bool = False) -> int:
    """Print the demo; returns the exit code."""
    console = Console()
    console.print(seeds_table())
    console.print(q1_table())
    split = load_digits_split(mnist)
    console.print(f"Data: {split.source}: {len(split.train_x)} train / {len(split.dev_x)} dev images.")
    console.print(train_all(split, epochs, console, quiet))
    return 0
