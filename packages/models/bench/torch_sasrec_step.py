"""Time one SASRec training step in PyTorch, the peer of bench/train-speed.ts.

The model follows Kang and McAuley, "Self-Attentive Sequential Recommendation" (ICDM 2018,
arXiv:1808.09781), with the choices of the TypeScript SASRec in src/sasrec, so that both
sides compute the same step:

- input: item embedding x sqrt(d) plus a learned absolute position embedding, dropout,
  then padding rows zeroed;
- each block: Q = LN(x), K = x Wk + bk and V = x Wv + bv from the un-normalised x, causal
  single-head attention softmax((Q Wq + bq) Kᵀ / sqrt(dHead) + bias) V with dropout on the
  weights, an output projection, y = LN(Q + attention), then
  y + dropout(dropout(ReLU(y W1 + b1)) W2 + b2), padding rows zeroed;
- a final layer norm and L2 normalisation (x / max(‖x‖, 1e-6)); layer norms use eps 1e-8;
- scores against the L2-normalised item embeddings (tied output embeddings), divided by
  the temperature;
- sampled softmax: 128 negatives are drawn uniformly with replacement from 1..itemCount for
  every position (--sampling per-position, the default, as generative-recommenders does) or
  once for the batch (--sampling shared). A negative equal to the target gets -5e4 added to
  its logit.
  The loss is the mean of logsumexp(logits) - positive logit over the positions with a
  target;
- AdamW with lr 1e-3, betas (0.9, 0.98), eps 1e-8 and no weight decay, the settings of
  train-speed.ts.

It times forward, backward and update after the warm-up steps and prints one JSON line.
Run it with Debian's torch (python3-torch 1.13): /usr/bin/python3 bench/torch_sasrec_step.py --threads 1
"""

import argparse
import json
import math
import sys
import time

import torch
import torch.nn.functional as F

NORM_EPSILON = 1e-8
"""Layer-norm epsilon of the TypeScript SASRec."""

BLOCKED = -1e9
"""Additive attention bias of a key that a query may not see."""

COLLISION_LOGIT_BIAS = -5e4
"""Added to a sampled negative's logit where the negative equals the target."""


def truncated_normal(shape, std, generator):
    """Draw normal values with deviation std, redrawn outside two deviations."""
    values = torch.randn(shape, generator=generator) * std
    outside = values.abs() > 2 * std
    while outside.any():
        values[outside] = torch.randn(int(outside.sum()), generator=generator) * std
        outside = values.abs() > 2 * std
    return values


def xavier(rows, cols, generator):
    """Draw a Xavier-normal kernel [rows, cols] with deviation sqrt(2 / (rows + cols))."""
    return torch.randn(rows, cols, generator=generator) * math.sqrt(2 / (rows + cols))


class SasRecBlock(torch.nn.Module):
    """One SASRec block: pre-LN causal self-attention and a point-wise feed-forward network."""

    def __init__(self, d, dropout, generator):
        super().__init__()
        self.dropout = dropout
        self.attention_norm = torch.nn.LayerNorm(d, eps=NORM_EPSILON)
        self.ffn_norm = torch.nn.LayerNorm(d, eps=NORM_EPSILON)
        self.kernels = torch.nn.ParameterDict()
        self.biases = torch.nn.ParameterDict()
        for name in ("query", "key", "value", "output", "ffn_inner", "ffn_outer"):
            self.kernels[name] = torch.nn.Parameter(xavier(d, d, generator))  # [d, d]
            self.biases[name] = torch.nn.Parameter(torch.zeros(d))  # [d]

    def dense(self, name, x):
        """Apply x · kernel + bias of the named projection."""
        return torch.addmm(self.biases[name], x, self.kernels[name])

    def forward(self, x, bias, valid, batch, length):
        """Run the block on x [batch · length, d] with attention bias [batch, length, length]."""
        d = x.shape[1]

        # Queries from the normalised input, keys and values from the input itself.
        normed = self.attention_norm(x)  # [batch · length, d]
        queries = self.dense("query", normed).view(batch, length, d) / math.sqrt(d)
        keys = self.dense("key", x).view(batch, length, d)
        values = self.dense("value", x).view(batch, length, d)

        # Causal attention with dropout on the weights (one head, so dHead = d).
        scores = torch.bmm(queries, keys.transpose(1, 2)) + bias  # [batch, length, length]
        weights = F.dropout(torch.softmax(scores, dim=-1), self.dropout, self.training)
        attended = torch.bmm(weights, values).reshape(batch * length, d)  # [batch · length, d]

        # Output projection, residual on the normalised input, then the feed-forward network.
        y = self.ffn_norm(normed + self.dense("output", attended))
        inner = F.dropout(torch.relu(self.dense("ffn_inner", y)), self.dropout, self.training)
        outer = F.dropout(self.dense("ffn_outer", inner), self.dropout, self.training)
        return (y + outer) * valid


class SasRec(torch.nn.Module):
    """SASRec with tied, L2-normalised output embeddings."""

    def __init__(self, item_count, max_length, d, layers, dropout, generator):
        super().__init__()
        self.d = d
        self.dropout = dropout
        items = truncated_normal((item_count + 1, d), 0.02, generator)  # [nItems + 1, d]
        items[0].zero_()
        self.item_embedding = torch.nn.Parameter(items)
        self.position_embedding = torch.nn.Parameter(truncated_normal((max_length, d), math.sqrt(1 / d), generator))  # [maxLength, d]
        self.blocks = torch.nn.ModuleList(SasRecBlock(d, dropout, generator) for _ in range(layers))
        self.final_norm = torch.nn.LayerNorm(d, eps=NORM_EPSILON)

    def encode(self, items, positions):
        """Return the L2-normalised final hidden states [batch · length, d] of items [batch, length]."""
        batch, length = items.shape
        flat_items = items.reshape(-1)  # [batch · length]

        # Attention bias: query i may attend to key j when j <= i and key j is not padding.
        valid = (flat_items != 0).to(torch.float32).unsqueeze(1)  # [batch · length, 1]
        causal = torch.ones(length, length, dtype=torch.bool).tril()  # [length, length]
        allowed = causal.unsqueeze(0) & (items != 0).unsqueeze(1)  # [batch, length, length]
        bias = torch.zeros(batch, length, length).masked_fill_(~allowed, BLOCKED)

        # Embedding, then the blocks, the final layer norm and L2 normalisation.
        x = self.item_embedding[flat_items] * math.sqrt(self.d) + self.position_embedding[positions.reshape(-1)]
        x = F.dropout(x, self.dropout, self.training) * valid  # [batch · length, d]
        for block in self.blocks:
            x = block(x, bias, valid, batch, length)
        return l2_normalize(self.final_norm(x))

    def output_embeddings(self, ids):
        """Return the L2-normalised item embeddings [k, d] of ids [k]."""
        return l2_normalize(self.item_embedding[ids])


def l2_normalize(x, epsilon=1e-6):
    """Scale each row to unit norm, x / max(‖x‖, epsilon), so that a zero row stays zero."""
    squared = (x * x).sum(dim=-1, keepdim=True)  # [rows, 1]
    return x * torch.rsqrt(squared.clamp_min(epsilon * epsilon))


def sampled_softmax_loss(model, hidden, targets, negative_ids, temperature):
    """Return the mean sampled-softmax loss of hidden [tokens, d] against targets [tokens].

    negative_ids is [negatives] when shared by the batch, or [tokens, negatives] per position.
    """
    # Positive and negative logits. A negative equal to the target drops out of the softmax.
    positive = (hidden * model.output_embeddings(targets)).sum(dim=-1) / temperature  # [tokens]
    if negative_ids.dim() == 1:
        collisions = (negative_ids.unsqueeze(0) == targets.unsqueeze(1)).to(torch.float32) * COLLISION_LOGIT_BIAS  # [tokens, negatives]
        negative = hidden @ model.output_embeddings(negative_ids).t() / temperature + collisions  # [tokens, negatives]
    else:
        collisions = (negative_ids == targets.unsqueeze(1)).to(torch.float32) * COLLISION_LOGIT_BIAS  # [tokens, negatives]
        table = model.output_embeddings(torch.arange(model.item_embedding.shape[0]))  # [items + 1, d]
        negative = torch.einsum("td,tnd->tn", hidden, table[negative_ids]) / temperature + collisions  # [tokens, negatives]

    # Softmax cross-entropy with the positive in column 0.
    logits = torch.cat([positive.unsqueeze(1), negative], dim=1)  # [tokens, 1 + negatives]
    return (torch.logsumexp(logits, dim=1) - positive).mean()


def parse_arguments(argv):
    """Parse and validate the command line."""
    parser = argparse.ArgumentParser(description="Time one PyTorch SASRec training step (forward, backward, AdamW update).")
    parser.add_argument("--threads", type=int, required=True, help="intra-op threads, passed to torch.set_num_threads")
    parser.add_argument("--batch", type=int, default=128, help="sequences per batch (default 128)")
    parser.add_argument("--length", type=int, default=200, help="positions per sequence, all with a target (default 200)")
    parser.add_argument("--steps", type=int, default=5, help="timed steps, of which the median is reported (default 5)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps before the timed ones (default 2)")
    parser.add_argument("--items", type=int, default=3706, help="catalogue size, ids 1..items (default 3706, ML-1M)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the weights, the data, dropout and the negatives (default 7)")
    parser.add_argument("--sampling", choices=("per-position", "shared"), default="per-position", help="negatives drawn for every position or once per batch (default per-position)")
    parser.add_argument("--profile", action="store_true", help="after the timed steps, profile one more step and print the 10 largest operators by self CPU time to standard error")
    arguments = parser.parse_args(argv)
    for name in ("threads", "batch", "length", "steps", "items"):
        if getattr(arguments, name) < 1:
            parser.error(f"--{name} must be an integer >= 1, received {getattr(arguments, name)}")
    if arguments.warmup < 0:
        parser.error(f"--warmup must be an integer >= 0, received {arguments.warmup}")
    return arguments


def main(argv):
    arguments = parse_arguments(argv)
    torch.set_num_threads(arguments.threads)
    torch.manual_seed(arguments.seed)
    generator = torch.Generator().manual_seed(arguments.seed)
    batch, length, item_count = arguments.batch, arguments.length, arguments.items

    # Model, optimizer and one random full-length batch, as train-speed.ts builds them.
    model = SasRec(item_count, max(200, length), 50, 2, 0.2, generator)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.98), eps=1e-8, weight_decay=0.0)
    items = torch.randint(1, item_count + 1, (batch, length), generator=generator)  # [batch, length]
    targets = torch.randint(1, item_count + 1, (batch * length,), generator=generator)  # [batch · length]
    positions = torch.arange(length).repeat(batch, 1)  # [batch, length]

    def step():
        optimizer.zero_grad(set_to_none=True)
        hidden = model.encode(items, positions)
        shape = (batch * length, 128) if arguments.sampling == "per-position" else (128,)
        negative_ids = torch.randint(1, item_count + 1, shape, generator=generator)  # [tokens, negatives] or [negatives]
        loss = sampled_softmax_loss(model, hidden, targets, negative_ids, 0.05)
        loss.backward()
        optimizer.step()
        return loss.item()

    # Warm up, then time each step. CPU ops run synchronously, so the step has finished when optimizer.step() returns.
    for _ in range(arguments.warmup):
        step()
    seconds = []
    loss = float("nan")
    for _ in range(arguments.steps):
        start = time.perf_counter()
        loss = step()
        seconds.append(time.perf_counter() - start)

    # Upper median for an even count, as train-speed.ts takes it.
    seconds.sort()
    median = seconds[len(seconds) // 2]
    if arguments.profile:
        with torch.autograd.profiler.profile() as profile:
            step()
        print(profile.key_averages().table(sort_by="self_cpu_time_total", row_limit=10), file=sys.stderr)
    tokens = batch * length
    print(json.dumps({
        "framework": "pytorch",
        "version": torch.__version__,
        "threads": torch.get_num_threads(),
        "batch": batch,
        "length": length,
        "d": 50,
        "sampling": arguments.sampling,
        "steps": arguments.steps,
        "median_step_s": round(median, 4),
        "min_step_s": round(seconds[0], 4),
        "max_step_s": round(seconds[-1], 4),
        "tokens_per_s": round(tokens / median),
        "last_loss": round(loss, 4),
    }))


if __name__ == "__main__":
    main(sys.argv[1:])
