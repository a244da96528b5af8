# ruff: noqa
# A student's hw2 notebook in percent format ("# %%" starts a code cell, "# %% [markdown]" a text
# cell, "# %magic" is a notebook magic). bench/notebook_execution.py turns it into an .ipynb.
# It is written like student work on purpose (unused imports, top-level training), so ruff skips it.

# %% [markdown]
# # Homework 2: backpropagation by hand, then in numpy
#
# A complete, correct submission, as a student hands it in: every graded function, plus the top-level
# work the handout asks for (loading MNIST, a gradient check against torch, three training runs of
# 20 epochs, plots). nngrade's benchmark `bench/notebook_execution.py` executes it in a Jupyter
# kernel, the way notebook graders do, and grades it with `nngrade grade hw2`.
#
# Two departures from a real Colab notebook, so that it runs offline here: MNIST is read from local
# IDX files instead of being downloaded by torchvision (which cannot be installed beside this
# torch), and the `!pip` and Google Drive cells are left out.


# %%
import gzip
import math
import time
import functools
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import numpy as np
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

try:
    from tqdm import tqdm
except ImportError:  # not installed on every machine; a progress bar changes nothing here
    def tqdm(iterable, **kwargs):
        return iterable


# %%
# %matplotlib inline


# %% [markdown]
# ## Loading MNIST
#
# The handout shuffles the 60,000 training images once and keeps 50,000 for training and 10,000 for
# development; the 10,000 test images stay apart until the end.
#
# Benchmark stand-in: only the 10,000-image test set exists on this machine, in IDX format under
# `./data/mnist`. The 60,000 "training" images are those 10,000 repeated six times, so that every
# epoch costs what it costs on the real data (the accuracies mean nothing, of course).


# %%
MNIST_DIR = Path('./data/mnist')


def read_idx_gz(path, header_bytes):
    # IDX: a big-endian header, then one unsigned byte per pixel or label
    with gzip.open(path, 'rb') as fh:
        return np.frombuffer(fh.read(), dtype=np.uint8, offset=header_bytes)


test_images = read_idx_gz(MNIST_DIR / 't10k-images-idx3-ubyte.gz', 16).reshape(-1, 28, 28)
test_labels = read_idx_gz(MNIST_DIR / 't10k-labels-idx1-ubyte.gz', 8).astype(np.int64)

all_x = np.tile(test_images, (6, 1, 1))
all_y = np.tile(test_labels, 6)
shuffle = np.random.RandomState(0).permutation(len(all_x))
all_x, all_y = all_x[shuffle], all_y[shuffle]

train_x, train_y = all_x[:50000], all_y[:50000]
dev_x, dev_y = all_x[50000:], all_y[50000:]
test_x, test_y = test_images, test_labels

NB_FEAT = 28 * 28
NB_CLASS = 10
pixel_mean = train_x.mean()
pixel_std = train_x.std()
train_x = ((train_x - pixel_mean) / pixel_std).reshape(-1, NB_FEAT).astype(np.float32)
dev_x = ((dev_x - pixel_mean) / pixel_std).reshape(-1, NB_FEAT).astype(np.float32)
test_x = ((test_x - pixel_mean) / pixel_std).reshape(-1, NB_FEAT).astype(np.float32)
print(train_x.shape, dev_x.shape, test_x.shape, train_x.dtype)


# %%
plt.figure(figsize=(8, 2))
for i in range(8):
    plt.subplot(1, 8, i + 1)
    plt.imshow(train_x[i].reshape(28, 28), cmap='gray')
    plt.title(str(train_y[i]))
    plt.axis('off')
plt.show()


# %%
#@title Hyperparameters
batch_size = 50 #@param {type:"integer"}
learning_rate = 0.005 #@param {type:"number"}
nb_epochs = 20 #@param {type:"slider", min:1, max:50, step:1}


# %% [markdown]
# ## Given code
#
# Do not edit: the training loop and the checks below rely on it.


# %%
def row_logsumexp(x):
    # x: (B, C) -> (B, 1)
    biggest = np.max(x, axis=1, keepdims=True)
    return biggest + np.log(np.sum(np.exp(x - biggest), axis=1, keepdims=True))


class Parameters:
    def __init__(self):
        self.param = {}
        self.grad = {}

    def set_param(self, key, value):
        self.param[key] = value
        self.grad[key] = np.zeros_like(value)

    def get_param(self, key):
        return self.param[key]

    def accumlate_grad(self, key, grad):
        if key not in self.param:
            raise KeyError(f'no parameter called {key}')
        if self.param[key].shape != grad.shape:
            raise ValueError(f'{key}: gradient shape {grad.shape} != parameter shape {self.param[key].shape}')
        self.grad[key] += grad

    def zero_grad(self):
        for key in self.param:
            self.grad[key] = np.zeros_like(self.param[key])

    def apply_grad(self, lr):
        for key in self.param:
            self.param[key] -= lr * self.grad[key]


def init_linear(in_dim, out_dim):
    rng = np.random.RandomState(0)
    return rng.randn(in_dim, out_dim) * np.sqrt(2 / in_dim)


def main_training(params, forward_and_backward, train_x, train_y, dev_x, dev_y,
                  batch_size, learning_rate, nb_epochs):
    dev_accuracies = []
    for epoch in range(nb_epochs):
        started = time.time()
        train_losses = []
        for start in tqdm(range(0, len(train_x), batch_size), leave=False):
            loss, _ = forward_and_backward(train_x[start:start + batch_size],
                                           train_y[start:start + batch_size], params)
            params.apply_grad(learning_rate)
            train_losses.append(loss)
        _, probs = forward_and_backward(dev_x, dev_y, params, grad=False)
        accuracy = np.mean(probs.argmax(axis=1) == dev_y)
        dev_accuracies.append(accuracy)
        print(f'epoch {epoch + 1}: train loss {np.mean(train_losses):.4f}, '
              f'dev accuracy {100 * accuracy:.2f}% ({time.time() - started:.1f}s)')
    return dev_accuracies


# %% [markdown]
# ## Q1: a computation graph
#
# f(x1, x2, w1, w2) = sigmoid(w1 x1 + w2 x2) + 0.5 (w1^2 + w2^2)
#
# With s = sigmoid(w1 x1 + w2 x2) and ds/du = s (1 - s), going backwards through the graph:
#
# * df/dw1 = x1 s (1 - s) + w1
# * df/dw2 = x2 s (1 - s) + w2
# * df/dx1 = w1 s (1 - s)
# * df/dx2 = w2 s (1 - s)


# %%
def sigmoid(u):
    # split on the sign so that math.exp never sees a large positive number
    if u >= 0:
        return 1.0 / (1.0 + math.exp(-u))
    e = math.exp(u)
    return e / (1.0 + e)


def g_w1(x1: float, x2: float, w1: float, w2: float) -> float:
    s = sigmoid(w1 * x1 + w2 * x2)
    return x1 * s * (1 - s) + w1


def g_w2(x1: float, x2: float, w1: float, w2: float) -> float:
    s = sigmoid(w1 * x1 + w2 * x2)
    return x2 * s * (1 - s) + w2


def g_x1(x1: float, x2: float, w1: float, w2: float) -> float:
    s = sigmoid(w1 * x1 + w2 * x2)
    return w1 * s * (1 - s)


def g_x2(x1: float, x2: float, w1: float, w2: float) -> float:
    s = sigmoid(w1 * x1 + w2 * x2)
    return w2 * s * (1 - s)


# %%
x1, x2 = 0.2, 0.4
w1, w2 = 0.3, -0.5
step_size = 0.01

w1_values, w2_values = [w1], [w2]
for step in range(30):
    grad_w1 = g_w1(x1, x2, w1, w2)
    grad_w2 = g_w2(x1, x2, w1, w2)
    w1 = w1 - step_size * grad_w1
    w2 = w2 - step_size * grad_w2
    w1_values.append(w1)
    w2_values.append(w2)

print('after 30 steps: w1 = %.5f, w2 = %.5f' % (w1, w2))
plt.plot(w1_values, label='w1')
plt.plot(w2_values, label='w2')
plt.xlabel('step')
plt.ylabel('value')
plt.legend()
plt.title('Q1: gradient descent on w1 and w2')
plt.show()


# %% [markdown]
# ## Q3 (a): linear classifier
#
# scores = x W, probs = softmax(scores), loss = mean cross-entropy. The loss's gradient with respect
# to the scores is (probs - onehot(y)) / B.


# %%
def linear_classifier_forward_and_backward(batch_x, batch_y, param, grad=True):
    param.zero_grad()
    w_sm = param.get_param('w_sm')          # (D, C)
    B = batch_x.shape[0]
    rows = np.arange(B)

    scores = batch_x @ w_sm                   # (B, C)
    log_probs = scores - row_logsumexp(scores)
    probs = np.exp(log_probs)
    loss = -np.mean(log_probs[rows, batch_y])
    if not grad:
        return loss, probs

    d_scores = probs.copy()
    d_scores[rows, batch_y] -= 1
    d_scores /= B
    param.accumlate_grad('w_sm', batch_x.T @ d_scores)
    return loss, probs


# %% [markdown]
# ## Q3 (b): one hidden layer
#
# h = ReLU(x W1 + b1), scores = h W_sm.


# %%
def mlp_single_hidden_forward_and_backward(batch_x, batch_y, param, grad=True):
    param.zero_grad()
    w1 = param.get_param('w1')              # (D, H)
    b1 = param.get_param('b1')              # (H,)
    w_sm = param.get_param('w_sm')          # (H, C)
    B = batch_x.shape[0]
    rows = np.arange(B)

    z1 = batch_x @ w1 + b1                    # (B, H)
    h1 = np.maximum(z1, 0)
    scores = h1 @ w_sm                        # (B, C)
    log_probs = scores - row_logsumexp(scores)
    probs = np.exp(log_probs)
    loss = -np.mean(log_probs[rows, batch_y])
    if not grad:
        return loss, probs

    d_scores = probs.copy()
    d_scores[rows, batch_y] -= 1
    d_scores /= B
    param.accumlate_grad('w_sm', h1.T @ d_scores)
    d_h1 = d_scores @ w_sm.T                  # (B, H)
    d_z1 = d_h1 * (z1 > 0)
    param.accumlate_grad('w1', batch_x.T @ d_z1)
    param.accumlate_grad('b1', d_z1.sum(axis=0))
    return loss, probs


# %% [markdown]
# ## Q3 (c): two hidden layers with a skip connection
#
# h1 = ReLU(x W1 + b1), h2 = h1 + ReLU(h1 W2 + b2), scores = h2 W_sm. The gradient reaching h1
# arrives along two paths: straight through the skip connection, and back through W2.


# %%
def mlp_two_hidden_forward_and_backward(batch_x, batch_y, param, grad=True):
    param.zero_grad()
    w1 = param.get_param('w1')              # (D, H)
    b1 = param.get_param('b1')              # (H,)
    w2 = param.get_param('w2')              # (H, H)
    b2 = param.get_param('b2')              # (H,)
    w_sm = param.get_param('w_sm')          # (H, C)
    B = batch_x.shape[0]
    rows = np.arange(B)

    z1 = batch_x @ w1 + b1                    # (B, H)
    h1 = np.maximum(z1, 0)
    z2 = h1 @ w2 + b2                         # (B, H)
    h2 = h1 + np.maximum(z2, 0)
    scores = h2 @ w_sm                        # (B, C)
    log_probs = scores - row_logsumexp(scores)
    probs = np.exp(log_probs)
    loss = -np.mean(log_probs[rows, batch_y])
    if not grad:
        return loss, probs

    d_scores = probs.copy()
    d_scores[rows, batch_y] -= 1
    d_scores /= B
    param.accumlate_grad('w_sm', h2.T @ d_scores)
    d_h2 = d_scores @ w_sm.T                  # (B, H)
    d_z2 = d_h2 * (z2 > 0)
    param.accumlate_grad('w2', h1.T @ d_z2)
    param.accumlate_grad('b2', d_z2.sum(axis=0))
    d_h1 = d_h2 + d_z2 @ w2.T                 # skip path + path through w2
    d_z1 = d_h1 * (z1 > 0)
    param.accumlate_grad('w1', batch_x.T @ d_z1)
    param.accumlate_grad('b1', d_z1.sum(axis=0))
    return loss, probs


# %% [markdown]
# ## Gradient check against torch autograd
#
# The same weights and 7 training images, all in float64. The biases get small random values so
# that their gradients are not only tested at zero.


# %%
H = NB_FEAT // 2
check_x = train_x[:7].astype(np.float64)
check_y = train_y[:7]
rng = np.random.RandomState(1)

check_params = Parameters()
check_params.set_param('w1', init_linear(NB_FEAT, H))
check_params.set_param('b1', 0.1 * rng.randn(H))
check_params.set_param('w2', init_linear(H, H))
check_params.set_param('b2', 0.1 * rng.randn(H))
check_params.set_param('w_sm', init_linear(H, NB_CLASS))
linear_params = Parameters()
linear_params.set_param('w_sm', init_linear(NB_FEAT, NB_CLASS))


def torch_scores(name, x, t):
    if name == 'linear':
        return x @ t['w_sm']
    h1 = torch.relu(x @ t['w1'] + t['b1'])
    if name == 'single':
        return h1 @ t['w_sm']
    h2 = h1 + torch.relu(h1 @ t['w2'] + t['b2'])
    return h2 @ t['w_sm']


models = [
    ('linear', linear_classifier_forward_and_backward, linear_params, ['w_sm']),
    ('single', mlp_single_hidden_forward_and_backward, check_params, ['w1', 'b1', 'w_sm']),
    ('two', mlp_two_hidden_forward_and_backward, check_params, ['w1', 'b1', 'w2', 'b2', 'w_sm']),
]
for name, fn, params, keys in models:
    loss, probs = fn(check_x, check_y, params)
    t = {k: torch.tensor(params.get_param(k), requires_grad=True) for k in keys}
    scores = torch_scores(name, torch.tensor(check_x), t)
    t_loss = F.cross_entropy(scores, torch.tensor(check_y, dtype=torch.long))
    t_loss.backward()
    print(name, 'loss', np.isclose(loss, t_loss.item()),
          'probs', np.allclose(probs, F.softmax(scores, dim=1).detach().numpy()))
    for k in keys:
        print('   ', k, np.allclose(params.grad[k], t[k].grad.numpy()))


# %% [markdown]
# ## Q3 (d): training the three models


# %%
params_linear = Parameters()
params_linear.set_param('w_sm', init_linear(NB_FEAT, NB_CLASS))
acc_linear = main_training(params_linear, linear_classifier_forward_and_backward,
                           train_x, train_y, dev_x, dev_y, batch_size, learning_rate, nb_epochs)

params_single = Parameters()
params_single.set_param('w1', init_linear(NB_FEAT, H))
params_single.set_param('b1', np.zeros(H))
params_single.set_param('w_sm', init_linear(H, NB_CLASS))
acc_single = main_training(params_single, mlp_single_hidden_forward_and_backward,
                           train_x, train_y, dev_x, dev_y, batch_size, learning_rate, nb_epochs)

params_two = Parameters()
params_two.set_param('w1', init_linear(NB_FEAT, H))
params_two.set_param('b1', np.zeros(H))
params_two.set_param('w2', init_linear(H, H))
params_two.set_param('b2', np.zeros(H))
params_two.set_param('w_sm', init_linear(H, NB_CLASS))
acc_two = main_training(params_two, mlp_two_hidden_forward_and_backward,
                        train_x, train_y, dev_x, dev_y, batch_size, learning_rate, nb_epochs)

epochs = np.arange(1, nb_epochs + 1)
plt.figure(figsize=(7, 4))
plt.plot(epochs, 100 * np.array(acc_linear), 'o-', label='linear (best %.2f%%)' % (100 * max(acc_linear)))
plt.plot(epochs, 100 * np.array(acc_single), 's-', label='1 hidden (best %.2f%%)' % (100 * max(acc_single)))
plt.plot(epochs, 100 * np.array(acc_two), '^-', label='2 hidden + skip (best %.2f%%)' % (100 * max(acc_two)))
plt.xlabel('epoch')
plt.ylabel('dev accuracy (%)')
plt.legend()
plt.grid(alpha=0.3)
plt.show()
