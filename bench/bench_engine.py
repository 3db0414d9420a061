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
from grader.engine import avg_pool2d  # noqa: E402
from grader.engine import avg_pool2d_backward  # noqa: E402
from grader.engine import batchnorm_backward  # noqa: E402
from grader.engine import batchnorm_forward  # noqa: E402
from grader.engine import dropout  # noqa: E402
from grader.engine import dropout_backward  # noqa: E402
from grader.engine import lstm_cell  # noqa: E402
from grader.engine import lstm_cell_backward  # noqa: E402
from grader.engine import max_pool2d  # noqa: E402
from grader.engine import max_pool2d_backward  # noqa: E402
from grader.engine import one_hot  # noqa: E402
from grader.exercises.solutions import trace_mlp  # noqa: E402

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
            median_seconds(lambda: trace_mlp(small, [1.0, 0.8], [0.6]), 300, r) * 1e6,
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


def layer_cases() -> list[tuple[str, float, float]]:
    """Forward + backward of the issue-15 layers, engine vs PyTorch autograd, same numbers."""
    rng = np.random.default_rng(2)
    x4 = rng.normal(size=(8, 8, 32, 32))
    g4 = rng.normal(size=(8, 8, 16, 16))
    xb, gamma, beta, gb = (rng.normal(size=s) for s in ((64, 128), 128, 128, (64, 128)))
    xl, hl, cl = rng.normal(size=(16, 32)), rng.normal(size=(16, 64)), rng.normal(size=(16, 64))
    wi, wh, bl = rng.normal(size=(256, 32)), rng.normal(size=(256, 64)), rng.normal(size=256)
    dh = rng.normal(size=(16, 64))
    mask = (rng.random((64, 128)) > 0.5).astype(float)
    cell = torch.nn.LSTMCell(32, 64, dtype=torch.float64)
    with torch.no_grad():
        cell.weight_ih.copy_(torch.tensor(wi))
        cell.weight_hh.copy_(torch.tensor(wh))
        cell.bias_ih.copy_(torch.tensor(bl))
        cell.bias_hh.zero_()

    def leaf(a: np.ndarray) -> torch.Tensor:
        return torch.tensor(a, requires_grad=True)

    def t_pool(fn: object) -> object:
        def run() -> None:
            xt = leaf(x4)
            fn(xt, 2).backward(torch.tensor(g4))  # type: ignore[operator]

        return run

    def t_bn() -> None:
        xt, gt, bt = leaf(xb), leaf(gamma), leaf(beta)
        F.batch_norm(xt, None, None, gt, bt, training=True).backward(torch.tensor(gb))

    def t_lstm() -> None:
        cell.zero_grad()
        xt, ht, ct = leaf(xl), leaf(hl), leaf(cl)
        h2, _ = cell(xt, (ht, ct))
        h2.backward(torch.tensor(dh))

    def t_drop() -> None:
        xt = leaf(xb)
        (xt * torch.tensor(mask) / 0.5).backward(torch.tensor(gb))

    # Same numbers first.
    np.testing.assert_allclose(max_pool2d(x4, 2), F.max_pool2d(torch.tensor(x4), 2).numpy())
    np.testing.assert_allclose(
        batchnorm_forward(xb, gamma, beta).y,
        F.batch_norm(
            torch.tensor(xb), None, None, torch.tensor(gamma), torch.tensor(beta), training=True
        ).numpy(),
        atol=1e-10,
    )
    np.testing.assert_allclose(
        lstm_cell(xl, hl, cl, wi, wh, bl)[0],
        cell(torch.tensor(xl), (torch.tensor(hl), torch.tensor(cl)))[0].detach().numpy(),
        atol=1e-12,
    )
    cases = [
        (
            "max pool 2x2, (8,8,32,32), fwd+bwd",
            lambda: (max_pool2d(x4, 2), max_pool2d_backward(x4, g4, 2)),
            t_pool(F.max_pool2d),
        ),
        (
            "avg pool 2x2, (8,8,32,32), fwd+bwd",
            lambda: (avg_pool2d(x4, 2), avg_pool2d_backward(x4, g4, 2)),
            t_pool(F.avg_pool2d),
        ),
        (
            "batch norm (64,128), fwd+bwd",
            lambda: (batchnorm_forward(xb, gamma, beta), batchnorm_backward(xb, gamma, gb)),
            t_bn,
        ),
        (
            "LSTM cell 32->64, batch 16, fwd+bwd",
            lambda: lstm_cell_backward(xl, hl, cl, wi, wh, bl, dh),
            t_lstm,
        ),
        (
            "inverted dropout (64,128), fwd+bwd",
            lambda: (dropout(xb, mask, 0.5), dropout_backward(gb, mask, 0.5)),
            t_drop,
        ),
    ]
    out = []
    for label, ours_fn, theirs_fn in cases:
        ours = statistics.median(median_seconds(ours_fn, 20, 3) for _ in range(5))
        theirs = statistics.median(median_seconds(theirs_fn, 20, 3) for _ in range(5))  # type: ignore[arg-type]
        out.append((label, ours, theirs))
    return out


def main() -> int:
    print(f"grader engine benchmark (numpy {np.__version__}, torch {torch.__version__}, 1 thread)")
    print(f"{'case':52s} {'median':>10s}")
    for label, value, unit in tiny_cases():
        print(f"{label:52s} {value:8.1f} {unit}")
    ours, theirs = large_case()
    print(f"{'784-128-10, batch 64, engine (float64)':52s} {ours * 1e3:8.3f} ms")
    print(f"{'784-128-10, batch 64, PyTorch CPU (float64)':52s} {theirs * 1e3:8.3f} ms")
    print(f"{'784-128-10 ratio engine / PyTorch (target <= 1.5)':52s} {ours / theirs:8.2f} x")
    print(
        f"{'layer (engine vs PyTorch autograd, float64)':40s} "
        f"{'engine':>10s} {'torch':>10s} {'ratio':>7s}"
    )
    for label, mine, torch_s in layer_cases():
        print(f"{label:40s} {mine * 1e6:8.0f}µs {torch_s * 1e6:8.0f}µs {mine / torch_s:6.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
