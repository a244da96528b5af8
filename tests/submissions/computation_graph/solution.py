"""A correct solution, written the way a student might: each node keeps a closure that pushes its
gradient to its inputs, and backward() orders the graph with an explicit stack."""

import math


class Value:
    def __init__(self, data, _inputs=()):
        self.data = float(data)
        self.grad = 0.0
        self._inputs = _inputs
        self._push = lambda: None

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"

    @staticmethod
    def _wrap(other):
        return other if isinstance(other, Value) else Value(other)

    def __add__(self, other):
        other = Value._wrap(other)
        out = Value(self.data + other.data, (self, other))

        def push():
            self.grad += out.grad
            other.grad += out.grad

        out._push = push
        return out

    __radd__ = __add__

    def __mul__(self, other):
        other = Value._wrap(other)
        out = Value(self.data * other.data, (self, other))

        def push():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._push = push
        return out

    __rmul__ = __mul__

    def __neg__(self):
        return self * -1.0

    def __pow__(self, k):
        out = Value(self.data**k, (self,))

        def push():
            self.grad += k * self.data ** (k - 1) * out.grad

        out._push = push
        return out

    def _unary(self, value, slope):
        out = Value(value, (self,))

        def push():
            self.grad += slope * out.grad

        out._push = push
        return out

    def exp(self):
        e = math.exp(self.data)
        return self._unary(e, e)

    def tanh(self):
        t = math.tanh(self.data)
        return self._unary(t, 1.0 - t * t)

    def sigmoid(self):
        if self.data >= 0:
            s = 1.0 / (1.0 + math.exp(-self.data))
        else:
            e = math.exp(self.data)
            s = e / (1.0 + e)
        return self._unary(s, s * (1.0 - s))

    def log(self):
        return self._unary(math.log(self.data), 1.0 / self.data)

    def relu(self):
        return self._unary(max(self.data, 0.0), 1.0 if self.data > 0 else 0.0)

    def backward(self):
        order, visited = [], set()
        stack = [(self, iter(self._inputs))]
        visited.add(id(self))
        while stack:
            node, inputs = stack[-1]
            for child in inputs:
                if id(child) not in visited:
                    visited.add(id(child))
                    stack.append((child, iter(child._inputs)))
                    break
            else:
                stack.pop()
                order.append(node)
        for node in order:
            node.grad = 0.0
        self.grad = 1.0
        for node in reversed(order):
            node._push()


def maximum(a, b):
    a, b = Value._wrap(a), Value._wrap(b)
    first = a.data >= b.data
    out = Value(a.data if first else b.data, (a, b))

    def push():
        if first:
            a.grad += out.grad
        else:
            b.grad += out.grad

    out._push = push
    return out


# Top-level demo: the loader skips it.
x, y, z, w = Value(3.0), Value(-4.0), Value(2.0), Value(-1.0)
f = 2 * (x * y + maximum(z, w))
f.backward()
print(f.data, x.grad, y.grad, z.grad, w.grad)
