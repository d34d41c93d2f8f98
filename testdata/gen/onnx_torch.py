"""Exports small CNNs from PyTorch to ONNX (opset 13) for models/onnx's tests.

Run with Debian's python3-torch:

    /usr/bin/python3 testdata/gen/onnx_torch.py [--full]

It writes, under models/onnx/testdata/torch/, for each model NAME:
NAME.onnx, NAME.in.npy (a seeded NCHW float32 batch) and NAME.out.npy
(PyTorch's float32 output on it, in eval mode).

  lecture_nchw  the lecture's layers in PyTorch's NCHW form: conv 5x5 pad 2
                + ReLU, max pool 2, conv 5x5 pad 2 + ReLU, max pool 2,
                flatten with x.view(x.size(0), -1) (exported as the
                Shape→Gather→Unsqueeze→Concat→Reshape chain), dense + ReLU,
                dropout, dense. Widths 8/16/64 keep the committed file small;
                --full also writes lecture_full (32/64/1024, 13 MB, not
                committed) to check the real sizes.
  resnet_bn     a small ResNet: conv-BN-ReLU stem, a basic block, a strided
                block with a 1x1 conv + BN shortcut, pre-activation BN on the
                block outputs (so BatchNormalization nodes survive export's
                conv-BN folding), global average pool, dense.
"""
import os
import sys

import numpy as np
import torch
from torch import nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "models", "onnx", "testdata", "torch")


class Lecture(nn.Module):
    def __init__(self, c1=32, c2=64, fc=1024):
        super().__init__()
        self.conv1 = nn.Conv2d(1, c1, 5, padding=2)
        self.conv2 = nn.Conv2d(c1, c2, 5, padding=2)
        self.pool = nn.MaxPool2d(2, 2)
        self.fc = nn.Linear(c2 * 7 * 7, fc)
        self.drop = nn.Dropout(0.25)
        self.logits = nn.Linear(fc, 10)

    def forward(self, x):
        x = self.pool(torch.relu(self.conv1(x)))
        x = self.pool(torch.relu(self.conv2(x)))
        x = x.view(x.size(0), -1)
        x = self.drop(torch.relu(self.fc(x)))
        return self.logits(x)


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.short = None
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
        self.post = nn.BatchNorm2d(cout)

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        s = x if self.short is None else self.short(x)
        return torch.relu(self.post(y + s))


class ResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 1, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU())
        self.block1 = Block(8, 8, 1)
        self.block2 = Block(8, 16, 2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 5)

    def forward(self, x):
        x = self.block2(self.block1(self.stem(x)))
        return self.fc(torch.flatten(self.pool(x), 1))


def randomize_bn(model, g):
    """Gives every BatchNorm non-trivial statistics and affine parameters."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            m.running_mean.copy_(torch.randn(c, generator=g) * 0.5)
            m.running_var.copy_(torch.rand(c, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(c, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(c, generator=g) * 0.2)


def export(name, model, shape, seed):
    g = torch.Generator().manual_seed(seed)
    model.eval()
    x = torch.rand(*shape, generator=g)
    with torch.no_grad():
        y = model(x)
    path = os.path.join(OUT, name + ".onnx")
    torch.onnx.export(model, x, path, opset_version=13, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "N"}, "output": {0: "N"}})
    np.save(os.path.join(OUT, name + ".in.npy"), x.numpy().astype("<f4"))
    np.save(os.path.join(OUT, name + ".out.npy"), y.numpy().astype("<f4"))
    print(name, os.path.getsize(path), "bytes")


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(1)
    export("lecture_nchw", Lecture(8, 16, 64), (3, 1, 28, 28), 2)
    torch.manual_seed(3)
    r = ResNet()
    with torch.no_grad():
        randomize_bn(r, torch.Generator().manual_seed(4))
    export("resnet_bn", r, (2, 3, 16, 16), 5)
    if "--full" in sys.argv[1:]:
        torch.manual_seed(6)
        export("lecture_full", Lecture(), (4, 1, 28, 28), 7)


if __name__ == "__main__":
    main()
