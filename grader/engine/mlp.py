"""A fully connected network (multi-layer perceptron) with exact, vectorised backpropagation.

Math names on purpose: for layer l (0-based in code, "layer l+1" in the paper-style traces),
Z[l] = A[l] @ W[l].T + b[l] and A[l+1] = f_l(Z[l]), with A[0] = X. Backward,
dZ[L-1] comes from the loss (see `losses`), dW[l] = dZ[l].T @ A[l], db[l] = sum_b dZ[l], and
dZ[l-1] = f'_{l-1}(Z[l-1]) * (dZ[l] @ W[l]) (a vector-Jacobian product for softmax).

The per-call path is kept short because exercises run thousands of 2-3-1 networks: names are
resolved to function objects once, in the constructor, and a call checks only the shapes and
finiteness of its own arguments. Parameters are validated when they are assigned (through
`net.weights[l] = ...` or the constructor), not on every call.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from typing import SupportsIndex
from typing import overload

import numpy as np

from grader.engine._validate import FloatArray
from grader.engine._validate import all_finite
from grader.engine._validate import as_array
from grader.engine._validate import positive_int
from grader.engine.activations import Activation
from grader.engine.activations import get_activation
from grader.engine.losses import Loss
from grader.engine.losses import get_loss

logger = logging.getLogger(__name__)

_F64 = np.dtype(np.float64)


class ParameterList(list[FloatArray]):
    """A list of parameter arrays that validates every assignment.

    `net.weights[0] = [[0.5, -0.2]]` stores a float64 array after checking its shape, so an
    exercise can set textbook numbers directly; a wrong shape or a NaN raises `ValueError`
    naming e.g. "weights[0]".
    """

    def __init__(self, name: str, shapes: Sequence[tuple[int, ...]], values: Iterable[Any]) -> None:
        self._name = name
        self._shapes = tuple(shapes)
        items = list(values)
        if len(items) != len(self._shapes):
            raise ValueError(f"{name}: expected {len(self._shapes)} arrays, got {len(items)}")
        super().__init__(self._convert(i, v) for i, v in enumerate(items))

    def _convert(self, index: int, value: Any) -> FloatArray:
        label = f"{self._name}[{index}]"
        arr = np.array(as_array(label, value), dtype=np.float64)  # always a private copy
        if arr.shape != self._shapes[index]:
            raise ValueError(f"{label}: expected shape {self._shapes[index]}, got {arr.shape}")
        return arr

    def __reduce__(
        self,
    ) -> tuple[object, tuple[str, tuple[tuple[int, ...], ...], list[FloatArray]]]:
        # copy.deepcopy and pickle rebuild through __init__, never through the refused append.
        return ParameterList, (self._name, self._shapes, list(self))

    @overload
    def __setitem__(self, index: SupportsIndex, value: Any) -> None: ...
    @overload
    def __setitem__(self, index: slice, value: Iterable[Any]) -> None: ...
    def __setitem__(self, index: SupportsIndex | slice, value: Any) -> None:
        if isinstance(index, slice):
            raise ValueError(
                f"{self._name}: assign one array at a time, e.g. {self._name}[0] = ..."
            )
        i = range(len(self))[index]  # normalises negative indices, raises IndexError
        super().__setitem__(i, self._convert(i, value))

    def _refuse(self, *args: Any, **kwargs: Any) -> None:
        raise ValueError(f"{self._name}: the number of layers is fixed; assign elements instead")

    append = extend = insert = pop = remove = clear = _refuse  # type: ignore[assignment]
    __delitem__ = __iadd__ = __imul__ = _refuse  # type: ignore[assignment]


@dataclass
class Gradients:
    """Gradients of the loss, shaped exactly like the network's parameters.

    Attributes:
        weights: weights[l] = dL/dW[l], shape (sizes[l+1], sizes[l]).
        biases: biases[l] = dL/db[l], shape (sizes[l+1],) (zeros when the net has no biases).
    """

    weights: list[FloatArray]
    biases: list[FloatArray]

    def parameters(self) -> list[FloatArray]:
        """The gradients in `MLP.parameters()` order: W[0], b[0], W[1], b[1], ..."""
        out: list[FloatArray] = []
        for w, b in zip(self.weights, self.biases, strict=True):
            out += (w, b)
        return out


@dataclass
class Backprop:
    """Everything one forward and backward pass computed, for exercises in matrix form.

    Attributes:
        loss: the loss value.
        zs: zs[l] = pre-activations of layer l+1, shape (batch, sizes[l+1]).
        activations: activations[0] = X and activations[l+1] = f_l(zs[l]).
        deltas: deltas[l] = dL/dzs[l] (the textbook delta of layer l+1).
        grads: the parameter gradients.
    """

    loss: float
    zs: list[FloatArray]
    activations: list[FloatArray]
    deltas: list[FloatArray]
    grads: Gradients


class MLP:
    """A multi-layer perceptron with named activations and loss.

    Args:
        sizes: units per layer, inputs first, e.g. [2, 3, 1].
        activations: one name per weight layer (len(sizes) - 1 of them).
        loss: a loss name (see `grader.engine.losses`).
        rng: initialises the parameters as PyTorch's `nn.Linear` does,
            U(-1/sqrt(fan_in), 1/sqrt(fan_in)); defaults to `np.random.default_rng(0)` so an
            unseeded network is still deterministic.
        weights: optional initial weights, weights[l] of shape (sizes[l+1], sizes[l]).
        biases: optional initial biases; zeros when weights are given without biases.
        bias: False for a network without biases (they stay zero and their gradients are 0).

    Raises:
        ValueError: naming the argument that is malformed.
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activations: Sequence[str],
        loss: str = "sse",
        *,
        rng: np.random.Generator | None = None,
        weights: Sequence[Any] | None = None,
        biases: Sequence[Any] | None = None,
        bias: bool = True,
    ) -> None:
        if isinstance(sizes, str | bytes) or not isinstance(sizes, Sequence) or len(sizes) < 2:
            raise ValueError(
                f"sizes: expected at least two layer sizes, e.g. [2, 3, 1], got {sizes!r}"
            )
        self.sizes: tuple[int, ...] = tuple(
            positive_int(f"sizes[{i}]", s) for i, s in enumerate(sizes)
        )
        self._n_in, self._n_out = self.sizes[0], self.sizes[-1]
        n_layers = len(self.sizes) - 1
        if isinstance(activations, str) or not isinstance(activations, Sequence):
            raise ValueError(
                f"activations: expected a list of {n_layers} names, e.g. ['sigmoid', 'linear'], "
                f"got {activations!r}"
            )
        if len(activations) != n_layers:
            raise ValueError(
                f"activations: expected {n_layers} names (one per weight layer), "
                f"got {len(activations)}"
            )
        self._acts: tuple[Activation, ...] = tuple(
            get_activation(a, f"activations[{i}]") for i, a in enumerate(activations)
        )
        self._loss: Loss = get_loss(loss)
        allowed = self._loss.output_activations
        if allowed is not None and self._acts[-1].name not in allowed:
            raise ValueError(
                f"activations: loss {loss!r} needs the last activation to be one of "
                f"{sorted(allowed)}, got {self._acts[-1].name!r}"
            )
        if not isinstance(bias, bool):
            raise ValueError(f"bias: expected True or False, got {bias!r}")
        self.bias = bias
        if rng is not None and not isinstance(rng, np.random.Generator):
            raise ValueError(f"rng: expected a numpy.random.Generator, got {type(rng).__name__}")

        w_shapes = [(self.sizes[i + 1], self.sizes[i]) for i in range(n_layers)]
        b_shapes = [(self.sizes[i + 1],) for i in range(n_layers)]
        gen = rng if rng is not None else np.random.default_rng(0)
        bounds = [1.0 / np.sqrt(fan_in) for fan_in in self.sizes[:-1]]
        given_weights = weights is not None
        if weights is None:
            weights = [gen.uniform(-k, k, s) for k, s in zip(bounds, w_shapes, strict=True)]
        elif isinstance(weights, str) or not isinstance(weights, Sequence):
            raise ValueError(f"weights: expected a list of {n_layers} arrays")
        if biases is None:
            if bias and not given_weights:
                biases = [gen.uniform(-k, k, s) for k, s in zip(bounds, b_shapes, strict=True)]
            else:  # textbook numbers come without biases: start them at zero
                biases = [np.zeros(s) for s in b_shapes]
        elif isinstance(biases, str) or not isinstance(biases, Sequence):
            raise ValueError(f"biases: expected a list of {n_layers} arrays")
        self._weights = ParameterList("weights", w_shapes, weights)
        self._biases = ParameterList("biases", b_shapes, biases)
        if not bias and any(np.any(b != 0.0) for b in self._biases):
            raise ValueError("biases: a network built with bias=False must have zero biases")

    # -- parameters -------------------------------------------------------------------------

    @property
    def weights(self) -> ParameterList:
        """weights[l]: shape (sizes[l+1], sizes[l]); assign elements to change them."""
        return self._weights

    @weights.setter
    def weights(self, values: Sequence[Any]) -> None:
        self._weights = ParameterList("weights", [w.shape for w in self._weights], values)

    @property
    def biases(self) -> ParameterList:
        """biases[l]: shape (sizes[l+1],)."""
        return self._biases

    @biases.setter
    def biases(self, values: Sequence[Any]) -> None:
        self._biases = ParameterList("biases", [b.shape for b in self._biases], values)

    @property
    def activations(self) -> tuple[str, ...]:
        """The activation names, one per weight layer."""
        return tuple(a.name for a in self._acts)

    @property
    def loss(self) -> str:
        """The loss name."""
        return self._loss.name

    def parameters(self) -> list[FloatArray]:
        """The parameter arrays themselves (not copies), W[0], b[0], W[1], b[1], ...

        Optimizers update these in place; `Gradients.parameters()` uses the same order.
        """
        out: list[FloatArray] = []
        for w, b in zip(self._weights, self._biases, strict=True):
            out += (w, b)
        return out

    def parameter_names(self) -> list[str]:
        """Names matching `parameters()`: "weights[0]", "biases[0]", ..."""
        return [f"{kind}[{i}]" for i in range(len(self._weights)) for kind in ("weights", "biases")]

    def copy(self) -> MLP:
        """An independent network with the same architecture and parameter values."""
        return MLP(
            self.sizes,
            self.activations,
            self.loss,
            weights=list(self._weights),
            biases=list(self._biases),
            bias=self.bias,
        )

    # -- computation ------------------------------------------------------------------------

    def _inputs(self, X: Any) -> tuple[FloatArray, bool]:
        # Fast path for the common call: a finite float64 batch of the right width.
        if (
            type(X) is np.ndarray
            and X.dtype == _F64
            and X.ndim == 2
            and X.shape[1] == self._n_in
            and all_finite(X)
        ):
            return X, False
        X = as_array("X", X, (1, 2))
        single = X.ndim == 1
        if single:
            X = X[None, :]
        if X.shape[1] != self.sizes[0]:
            raise ValueError(f"X: expected shape (batch, {self.sizes[0]}), got {X.shape}")
        return X, single

    def _targets(self, T: Any, batch: int, single: bool) -> FloatArray:
        if (
            not single
            and type(T) is np.ndarray
            and T.dtype == _F64
            and T.shape == (batch, self._n_out)
            and all_finite(T)
        ):
            return T
        T = as_array("T", T, 1 if single else 2)
        if single:
            T = T[None, :]
        if T.shape != (batch, self.sizes[-1]):
            what = f"({self.sizes[-1]},)" if single else f"({batch}, {self.sizes[-1]})"
            raise ValueError(f"T: expected shape {what} to match X, got {T.shape[single:]}")
        return T

    def _forward(self, A: FloatArray) -> tuple[list[FloatArray], list[FloatArray]]:
        """(zs, activations) for a validated batch A."""
        zs: list[FloatArray] = []
        activations = [A]
        # ndarray.dot rather than @: same BLAS call, a fraction of the overhead on tiny arrays.
        for W, b, act in zip(self._weights, self._biases, self._acts, strict=True):
            Z = A.dot(W.T)
            Z += b
            A = act.forward(Z)
            zs.append(Z)
            activations.append(A)
        return zs, activations

    def forward(self, X: Any) -> FloatArray:
        """Outputs for inputs X of shape (batch, sizes[0]) (or one example of shape (sizes[0],))."""
        A, single = self._inputs(X)
        for W, b, act in zip(self._weights, self._biases, self._acts, strict=True):
            Z = A.dot(W.T)
            Z += b
            A = act.forward(Z)
        return A[0] if single else A

    def loss_value(self, X: Any, T: Any) -> float:
        """The loss on a batch, without gradients."""
        A, single = self._inputs(X)
        T = self._targets(T, A.shape[0], single)
        zs, activations = self._forward(A)
        return self._loss.value_and_delta(zs[-1], activations[-1], T, self._acts[-1])[0]

    def loss_and_gradients(self, X: Any, T: Any) -> tuple[float, Gradients]:
        """The loss and its gradients with respect to every weight and bias.

        Args:
            X: inputs, shape (batch, sizes[0]), or (sizes[0],) for one example.
            T: targets, shape (batch, sizes[-1]) (or (sizes[-1],) with a single example).
        """
        A, single = self._inputs(X)
        T = self._targets(T, A.shape[0], single)
        zs, activations = self._forward(A)
        loss, gw, gb, _ = self._backward(zs, activations, T, keep_deltas=False)
        return loss, Gradients(gw, gb)

    def backprop(self, X: Any, T: Any) -> Backprop:
        """One forward and backward pass, keeping every intermediate (see `Backprop`)."""
        A, single = self._inputs(X)
        T = self._targets(T, A.shape[0], single)
        zs, activations = self._forward(A)
        loss, gw, gb, deltas = self._backward(zs, activations, T, keep_deltas=True)
        return Backprop(loss, zs, activations, deltas, Gradients(gw, gb))

    def _backward(
        self, zs: list[FloatArray], activations: list[FloatArray], T: FloatArray, keep_deltas: bool
    ) -> tuple[float, list[FloatArray], list[FloatArray], list[FloatArray]]:
        weights, acts = self._weights, self._acts
        loss, dZ = self._loss.value_and_delta(zs[-1], activations[-1], T, acts[-1])
        n = len(weights)
        gw: list[FloatArray] = [dZ] * n  # placeholders, all overwritten below
        gb: list[FloatArray] = [dZ] * n
        deltas: list[FloatArray] = [dZ] * n if keep_deltas else []
        add_reduce = np.add.reduce
        for layer in range(n - 1, -1, -1):
            if keep_deltas:
                deltas[layer] = dZ
            gw[layer] = dZ.T.dot(activations[layer])
            if not self.bias:
                gb[layer] = np.zeros(dZ.shape[1])
            elif dZ.shape[0] == 1:  # one example: copying the row beats a reduction call
                gb[layer] = dZ[0].copy()
            else:
                gb[layer] = add_reduce(dZ, 0)
            if layer:
                prev = layer - 1
                dZ = acts[prev].backward(zs[prev], activations[layer], dZ.dot(weights[layer]))
        return loss, gw, gb, deltas

    def __repr__(self) -> str:
        return (
            f"MLP(sizes={list(self.sizes)}, activations={list(self.activations)}, "
            f"loss={self.loss!r}, bias={self.bias})"
        )
