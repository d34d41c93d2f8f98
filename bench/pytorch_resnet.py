#!/usr/bin/env python3
"""Times the small ResNet of `convnet bench --model resnet` in PyTorch, for bench/compare.sh.

The model is convnet's benchmark ResNet (models.NewResNet, Stages [16, 32],
StageBlocks [2, 1]) layer for layer, with its layer names:

    stem        conv 3x3/16 (no bias) -> stem_bn -> ReLU          28x28x16
    s1b1, s1b2  y = bn2(conv2 3x3(ReLU(bn1(conv1 3x3(x)))))
                out = ReLU(y + x)                               28x28x16
    s2b1        the same with conv1 at stride 2 and 32 filters,
                skip = proj_bn(proj 1x1 stride 2(x))            14x14x32
    gap         global average pooling                          32
    logits      dense 10

Batch norm is Keras's: epsilon 1e-3, momentum 0.99 (PyTorch's momentum
0.01), batch statistics in training mode, moving statistics in eval mode.

TensorFlow's SAME padding of the stride-2 3x3 convolution on 28x28 puts
its one padded row and column after the image (bottom, right); PyTorch's
padding=1 puts one on each side. Both give 14x14 outputs from the same
number of products, so the timed model uses PyTorch's own padding=1, the
way a PyTorch user writes it; --check runs TensorFlow's padding
(F.pad by (0, 1, 0, 1), then the convolution unpadded) to compare with
convnet exactly.

It prints one JSON object with the keys of `convnet bench --json` (see
pytorch_lecture.py, whose timing it shares): train step with Adam and
softmax cross-entropy in training mode, inference at batch 128 and batch
1 in eval mode.

With --onnx PATH it writes the model (eval mode, NCHW input [n, 1, 28,
28]) to PATH for bench/ort/run.js and exits.

With --check DIR it loads the weights `convnet bench --write-check DIR`
wrote (TF layout, one .npy per weight), runs the same input in eval and
in training mode, and compares the logits with convnet's: it prints the
parameter counts and the largest differences and exits 1 when a count
differs, a weight is missing or left over, or a logit differs by more
than 1e-4.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

from pytorch_lecture import bench, export_onnx, parser

# Convolutions and the dense layer, multiply-adds x2, as
# internal/benchmark.ResNetFwdFLOPPerImage counts them.
FWD_FLOP_PER_IMAGE = 2 * (28 * 28 * 9 * 1 * 16 + 4 * 28 * 28 * 9 * 16 * 16 + 14 * 14 * 9 * 16 * 32
                          + 14 * 14 * 9 * 32 * 32 + 14 * 14 * 16 * 32 + 32 * 10)
STAGES, STAGE_BLOCKS = (16, 32), (2, 1)
TOLERANCE = 1e-4


class ResNet(torch.nn.Module):
    """The benchmark ResNet; self.layers holds its layers under convnet's names."""

    def __init__(self):
        super().__init__()
        L = torch.nn.ModuleDict()

        def conv(name, cin, cout, k, stride):
            L[name] = torch.nn.Conv2d(cin, cout, k, stride, padding=k // 2, bias=False)

        def bn(name, c):
            L[name] = torch.nn.BatchNorm2d(c, eps=1e-3, momentum=0.01)

        conv("stem", 1, STAGES[0], 3, 1)
        bn("stem_bn", STAGES[0])
        self.blocks = []  # (prefix, stride, projected)
        width = STAGES[0]
        for s, (filters, blocks) in enumerate(zip(STAGES, STAGE_BLOCKS)):
            for b in range(blocks):
                p = f"s{s + 1}b{b + 1}_"
                stride = 2 if s > 0 and b == 0 else 1
                conv(p + "conv1", width, filters, 3, stride)
                bn(p + "bn1", filters)
                conv(p + "conv2", filters, filters, 3, 1)
                bn(p + "bn2", filters)
                projected = stride != 1 or filters != width
                if projected:
                    conv(p + "proj", width, filters, 1, stride)
                    bn(p + "proj_bn", filters)
                self.blocks.append((p, stride, projected))
                width = filters
        L["logits"] = torch.nn.Linear(width, 10)
        self.layers = L
        self.tf_padding = False

    def conv_stride2(self, conv, x):
        if not self.tf_padding:
            return conv(x)
        # TF SAME on an even size: all the padding after the image.
        return F.conv2d(F.pad(x, (0, 1, 0, 1)), conv.weight, None, conv.stride)

    def forward(self, x):
        L = self.layers
        x = F.relu(L["stem_bn"](L["stem"](x)))
        for p, stride, projected in self.blocks:
            c1 = L[p + "conv1"]
            y = self.conv_stride2(c1, x) if stride == 2 else c1(x)
            y = F.relu(L[p + "bn1"](y))
            y = L[p + "bn2"](L[p + "conv2"](y))
            skip = L[p + "proj_bn"](L[p + "proj"](x)) if projected else x
            x = F.relu(y + skip)
        return L["logits"](x.mean((2, 3)))


def load_convnet_weights(model, folder):
    """Copies the TF-layout weights in folder/<layer>.<weight>.npy into model.

    Returns the names of the weight files that no parameter took."""
    files = {f[:-4] for f in os.listdir(folder) if f.endswith(".npy")} - {
        "input", "logits_eval", "logits_train", "params"}
    used = set()

    def take(name):
        if name not in files:
            sys.exit(f"pytorch_resnet.py --check: {folder} has no {name}.npy")
        used.add(name)
        return torch.from_numpy(np.load(os.path.join(folder, name + ".npy")))

    with torch.no_grad():
        for layer, m in model.layers.items():
            if isinstance(m, torch.nn.Conv2d):
                m.weight.copy_(take(layer + ".kernel").permute(3, 2, 0, 1))  # HWIO -> OIHW
            elif isinstance(m, torch.nn.BatchNorm2d):
                m.weight.copy_(take(layer + ".gamma"))
                m.bias.copy_(take(layer + ".beta"))
                m.running_mean.copy_(take(layer + ".moving_mean"))
                m.running_var.copy_(take(layer + ".moving_variance"))
            elif isinstance(m, torch.nn.Linear):
                m.weight.copy_(take(layer + ".kernel").T)  # [in, out] -> [out, in]
                m.bias.copy_(take(layer + ".bias"))
    return sorted(files - used)


def check(model, folder):
    """Compares model with convnet's logits in folder; returns the exit code."""
    model.tf_padding = True
    left = load_convnet_weights(model, folder)
    load = lambda name: torch.from_numpy(np.load(os.path.join(folder, name + ".npy")))
    x = load("input").permute(0, 3, 1, 2).contiguous()  # NHWC -> NCHW
    ours = sum(p.numel() for p in model.parameters())
    theirs = int(load("params")[0])
    ok = ours == theirs and not left
    print(f"resnet check: parameters convnet {theirs}, PyTorch {ours}" + (f"; weights left over: {left}" if left else ""))
    with torch.no_grad():
        for mode in ("eval", "train"):
            model.train(mode == "train")
            d = (model(x) - load("logits_" + mode)).abs().max().item()
            ok &= d <= TOLERANCE
            print(f"resnet check: {mode} mode, {x.shape[0]} images: max |convnet - PyTorch| logit = {d:.2e} "
                  f"(tolerance {TOLERANCE:g})")
    print("resnet check: " + ("the two models agree" if ok else "MISMATCH"))
    return 0 if ok else 1


def main():
    p = parser("Times the benchmark's small ResNet in PyTorch.")
    p.add_argument("--check", metavar="DIR", help="compare with convnet's weights and logits in DIR and exit")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    model = ResNet()
    if a.check:
        sys.exit(check(model, a.check))
    if a.onnx:
        export_onnx(model, a.onnx)
        return
    print(json.dumps({"model": "resnet", **bench(model, FWD_FLOP_PER_IMAGE, a)}))


if __name__ == "__main__":
    main()
