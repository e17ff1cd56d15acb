"""Compare the PyTorch SASRec of torch_sasrec_step.py with a step written by bench/torch-parity.ts.

Reads the JSON file named on the command line: weights, batch, shared negatives, and our
loss and gradients. Runs the same loss and backward pass in PyTorch with dropout 0 and
prints one line per variable. Exits with status 1 when the loss or a gradient differs by
more than the tolerances below.
"""

import json
import os
import sys

import torch

# Import the peer from this folder without leaving a __pycache__ folder in the repository.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_sasrec_step as peer  # noqa: E402

LOSS_TOLERANCE = 1e-5
"""Largest relative difference of the losses."""

GRADIENT_RELATIVE_TOLERANCE = 1e-4
"""Largest difference of a gradient element, relative to the largest element of that variable's gradient."""

GRADIENT_ABSOLUTE_TOLERANCE = 1e-6
"""Added to the gradient tolerance. The key biases have an exact gradient of 0, since a bias
shared by all keys of a query cancels in the softmax, so both sides return only rounding noise there."""


def named_parameters(model):
    """Map our checkpoint names (src/sasrec/weights.ts) to the parameters of the PyTorch model."""
    names = {
        "item_embedding": model.item_embedding,
        "position_embedding": model.position_embedding,
        "final_norm/scale": model.final_norm.weight,
        "final_norm/shift": model.final_norm.bias,
    }
    for index, block in enumerate(model.blocks):
        prefix = f"block_{index}/"
        names[prefix + "attention_norm/scale"] = block.attention_norm.weight
        names[prefix + "attention_norm/shift"] = block.attention_norm.bias
        names[prefix + "ffn_norm/scale"] = block.ffn_norm.weight
        names[prefix + "ffn_norm/shift"] = block.ffn_norm.bias
        for name in ("query", "key", "value", "output", "ffn_inner", "ffn_outer"):
            names[prefix + name + "/kernel"] = block.kernels[name]
            names[prefix + name + "/bias"] = block.biases[name]
    return names


def main(argv):
    if len(argv) != 1:
        sys.exit("usage: torch_sasrec_parity.py STEP_JSON")
    with open(argv[0], encoding="utf-8") as file:
        step = json.load(file)

    # Build the PyTorch model with our weights. The layer count comes from the checkpoint names.
    layers = sum(1 for name in step["weights"] if name.endswith("/query/kernel"))
    max_length, d = step["weights"]["position_embedding"]["shape"]
    model = peer.SasRec(step["itemCount"], max_length, d, layers, 0.0, torch.Generator().manual_seed(0))
    model.train()
    parameters = named_parameters(model)
    if set(parameters) != set(step["weights"]):
        sys.exit(f"variable names differ: {sorted(set(parameters) ^ set(step['weights']))}")
    with torch.no_grad():
        for name, parameter in parameters.items():
            weight = step["weights"][name]
            parameter.copy_(torch.tensor(weight["values"], dtype=torch.float32).view(weight["shape"]))

    # Loss and gradients of the same batch and negatives.
    batch, length = step["batch"], step["len"]
    items = torch.tensor(step["items"]).view(batch, length)  # [batch, len]
    positions = torch.tensor(step["positions"]).view(batch, length)  # [batch, len]
    rows = torch.tensor(step["rows"])  # [tokens]
    hidden = model.encode(items, positions)[rows]  # [tokens, d]
    targets = torch.tensor(step["targets"])[rows]  # [tokens]
    loss = peer.sampled_softmax_loss(model, hidden, targets, torch.tensor(step["negatives"]), step["temperature"])
    loss.backward()

    # Compare.
    failures = 0
    loss_difference = abs(loss.item() - step["loss"]) / abs(step["loss"])
    print(f"loss: PyTorch {loss.item():.6f}, ours {step['loss']:.6f}, relative difference {loss_difference:.1e}")
    if loss_difference > LOSS_TOLERANCE:
        failures += 1
    for name, parameter in parameters.items():
        ours = torch.tensor(step["gradients"][name], dtype=torch.float32).view(parameter.shape)
        difference = (parameter.grad - ours).abs().max().item()
        largest = ours.abs().max().item()
        passed = difference <= GRADIENT_RELATIVE_TOLERANCE * largest + GRADIENT_ABSOLUTE_TOLERANCE
        failures += 0 if passed else 1
        print(f"{'ok  ' if passed else 'FAIL'} {name}: max |difference| {difference:.1e}, max |gradient| {largest:.1e}")
    print("PyTorch step matches ours" if failures == 0 else f"{failures} mismatches")
    sys.exit(0 if failures == 0 else 1)


if __name__ == "__main__":
    main(sys.argv[1:])
