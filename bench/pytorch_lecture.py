#!/usr/bin/env python3
"""Times the CS20 lecture's MNIST convnet in PyTorch, for bench/compare.sh.

The model matches convnet's models.Lecture: 28x28x1 -> conv 5x5/32 SAME + ReLU
-> max pool 2/2 -> conv 5x5/64 SAME + ReLU -> max pool 2/2 -> dense 1024 + ReLU
-> dropout 0.25 -> dense 10, Adam 1e-3, softmax cross-entropy, batch 128.

It prints one JSON object with the same keys as `convnet bench --json`:
model, params (trainable parameters), train_step_ms (median of forward, backward and Adam update on a fixed batch),
infer_ms and infer_images_per_second at batch 128, latency_ms at batch 1,
and peak_rss_mib of the whole process.

With --onnx PATH it instead writes the model (seeded weights, NCHW input
[N, 1, 28, 28] with a dynamic batch axis, opset 13) to PATH with
torch.onnx.export, for bench/ort/run.js, and exits.
"""
import argparse
import json
import resource
import statistics
import time

import torch
import torch.nn.functional as F

FWD_FLOP_PER_IMAGE = 2 * (28 * 28 * 32 * 25 + 14 * 14 * 64 * 25 * 32 + 3136 * 1024 + 1024 * 10)


class Lecture(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 32, 5, padding=2)
        self.conv2 = torch.nn.Conv2d(32, 64, 5, padding=2)
        self.fc = torch.nn.Linear(3136, 1024)
        self.logits = torch.nn.Linear(1024, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.fc(x.flatten(1)))
        x = F.dropout(x, 0.25, self.training)
        return self.logits(x)


def median_ms(fn, warmup, runs):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1e3 * statistics.median(times)


def parser(description):
    """The command-line flags both PyTorch benchmark scripts take."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--runs", type=int, default=30)
    p.add_argument("--onnx", metavar="PATH", help="export the model to PATH and exit")
    return p


def export_onnx(model, path):
    """Writes model (eval mode, NCHW input [n, 1, 28, 28]) to path, opset 13."""
    model.eval()
    torch.onnx.export(model, torch.rand(1, 1, 28, 28), path, input_names=["x"], output_names=["logits"],
                      dynamic_axes={"x": {0: "n"}, "logits": {0: "n"}}, opset_version=13)


def bench(model, fwd_flop_per_image, a):
    """Times model as `convnet bench` does and returns its JSON fields.

    The train step is forward, softmax cross-entropy, backward and an Adam
    (lr 1e-3) update in training mode on a fixed batch; inference runs in
    eval mode under no_grad at --batch and at batch 1."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.rand(a.batch, 1, 28, 28)
    y = torch.randint(0, 10, (a.batch,))

    def step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()

    model.train()
    train_ms = median_ms(step, a.warmup, a.runs)
    model.eval()
    with torch.no_grad():
        infer_ms = median_ms(lambda: model(x), a.warmup, a.runs)
        x1 = x[:1].clone()
        latency_ms = median_ms(lambda: model(x1), 20, max(200, a.runs))
    return {
        "params": sum(p.numel() for p in model.parameters()),
        "impl": "pytorch " + torch.__version__,
        "threads": torch.get_num_threads(),
        "batch": a.batch,
        "train_step_ms": round(train_ms, 3),
        "train_images_per_second": round(a.batch / train_ms * 1e3, 1),
        "train_gflops": round(3 * fwd_flop_per_image * a.batch / train_ms / 1e6, 1),
        "infer_ms": round(infer_ms, 3),
        "infer_images_per_second": round(a.batch / infer_ms * 1e3, 1),
        "latency_ms": round(latency_ms, 3),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main():
    a = parser("Times the lecture's MNIST convnet in PyTorch.").parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    model = Lecture()
    if a.onnx:
        export_onnx(model, a.onnx)
        return
    print(json.dumps({"model": "lecture", **bench(model, FWD_FLOP_PER_IMAGE, a)}))


if __name__ == "__main__":
    main()
