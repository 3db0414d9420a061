"""Engine speed (issue 3): per-call overhead on a tiny network, and a 784-128-10 MLP vs PyTorch.

Run: .venv/bin/python bench/bench_engine.py

Threads: every BLAS/OpenMP pool is pinned to ONE thread (OMP_NUM_THREADS, OPENBLAS_NUM_THREADS,
MKL_NUM_THREADS set before NumPy loads; torch.set_num_threads(1) and
torch.set_num_interop_threads(1)), so NumPy and PyTorch are compared on equal footing and the
figures do not depend on how many cores a shared CI machine lends us. Both sides use float64
(the engine's precision), the same layer sizes, batch and loss (ReLU hidden layer, logits,
mean cross-entropy on one-hot targets), and PyTorch computes only the parameter gradients the
engine computes. Timings are medians over repeats; a NumPy `a + a` on three numbers is shown as
the machine's per-call baseline, because a loaded machine slows every figure alike.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # must precede the NumPy and torch imports

import statistics  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402, N812
from timing import median_seconds  # noqa: E402

from grader.engine import MLP  # noqa: E402
from grader.engine import one_hot  # noqa: E402

torch.set_num_threads(1)
torch.set_num_interop_threads(1)


def tiny_cases() -> list[tuple[str, float, str]]:
    rng = np.random.default_rng(0)
    net = MLP([2, 3, 1], ["sigmoid", "linear"], "sse", rng=rng)
    X, T = np.array([[1.0, 0.8]]), np.array([[0.6]])
    params = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in net.parameters()]
    Xt, Tt = torch.tensor(X), torch.tensor(T)

    def torch_step() -> None:
        for p in params:
            p.grad = None
        h = torch.sigmoid(Xt @ params[0].T + params[1])
        y = h @ params[2].T + params[3]
        ((y - Tt) ** 2).sum().backward()

    a = np.ones(3)
    small = MLP([2, 2, 1], ["sigmoid", "linear"], "sse", rng=rng)
    n, r = 5000, 15
    return [
        (
            "numpy a + a (3 numbers): machine baseline",
            median_seconds(lambda: a + a, n, r) * 1e6,
            "µs",
        ),
        ("2-3-1 forward", median_seconds(lambda: net.forward(X), n, r) * 1e6, "µs"),
        (
            "2-3-1 forward+backward (loss_and_gradients)",
            median_seconds(lambda: net.loss_and_gradients(X, T), n, r) * 1e6,
            "µs",
        ),
        (
            "2-3-1 forward+backward, PyTorch autograd",
            median_seconds(torch_step, 1000, r) * 1e6,
            "µs",
        ),
        (
            "2-2-1 trace (worked solution)",
            median_seconds(lambda: small.trace([1.0, 0.8], [0.6]), 300, r) * 1e6,
            "µs",
        ),
    ]


def large_case() -> tuple[float, float]:
    rng = np.random.default_rng(1)
    net = MLP([784, 128, 10], ["relu", "linear"], "cross_entropy", rng=rng)
    X = rng.normal(size=(64, 784))
    T = one_hot(rng.integers(0, 10, 64), 10)
    params = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in net.parameters()]
    Xt, Tt = torch.tensor(X), torch.tensor(T)

    def torch_step() -> list[torch.Tensor]:
        for p in params:
            p.grad = None
        h = torch.relu(Xt @ params[0].T + params[1])
        logits = h @ params[2].T + params[3]
        F.cross_entropy(logits, Tt).backward()
        return [p.grad for p in params]  # type: ignore[misc]

    # Same numbers first: a ratio of two different computations would mean nothing.
    _, grads = net.loss_and_gradients(X, T)
    for ours, theirs in zip(grads.parameters(), torch_step(), strict=True):
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-9, atol=1e-12)

    # Interleave the two so a load spike hits both alike.
    ours_s, theirs_s = [], []
    for _ in range(9):
        ours_s.append(median_seconds(lambda: net.loss_and_gradients(X, T), 20, 3))
        theirs_s.append(median_seconds(torch_step, 20, 3))
    return statistics.median(ours_s), statistics.median(theirs_s)


def main() -> int:
    print(f"grader engine benchmark (numpy {np.__version__}, torch {torch.__version__}, 1 thread)")
    print(f"{'case':52s} {'median':>10s}")
    for label, value, unit in tiny_cases():
        print(f"{label:52s} {value:8.1f} {unit}")
    ours, theirs = large_case()
    print(f"{'784-128-10, batch 64, engine (float64)':52s} {ours * 1e3:8.3f} ms")
    print(f"{'784-128-10, batch 64, PyTorch CPU (float64)':52s} {theirs * 1e3:8.3f} ms")
    print(f"{'784-128-10 ratio engine / PyTorch (target <= 1.5)':52s} {ours / theirs:8.2f} x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
