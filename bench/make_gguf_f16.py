#!/usr/bin/env python3
"""Writes a Hugging Face Llama directory (config.json + F16/BF16/F32 safetensors shards) as a GGUF
F16 file that llama.cpp's llama-quantize accepts, without tokenizer files, torch or safetensors.

Used by bench/llama_quantize_baseline.sh to get a same-machine llama-quantize baseline for synthetic
models (which have no tokenizer, so llama.cpp's convert_hf_to_gguf.py refuses them).

  PYTHONPATH=/path/to/llama.cpp/gguf-py python3 bench/make_gguf_f16.py MODEL_DIR OUT.gguf

Needs numpy and llama.cpp's gguf-py package (imported at run time from PYTHONPATH; gguf-py in turn
imports yaml and sentencepiece). Matches convert_hf_to_gguf.py for a LlamaForCausalLM:
- the same GGUF tensor names and llama.* hyperparameter keys;
- q_proj/k_proj rows are permuted HF -> GGUF exactly as the converter's LlamaModel.permute does;
- 1-D tensors (norms) are stored as F32, 2-D weights as F16 (BF16/F32 inputs are converted to F16);
- the vocabulary is a dummy: tokenizer.ggml.model = "llama" with vocab_size tokens (<unk>, <s>,
  </s>, the 256 byte tokens <0x00>..<0xFF>, then "tok<i>"), zero scores. llama-quantize never
  tokenizes, so this only satisfies the loader.
"""
import json
import struct
import sys
from pathlib import Path

import numpy as np

try:
    import gguf
except ImportError:
    sys.exit("make_gguf_f16.py: cannot import gguf; set PYTHONPATH=/path/to/llama.cpp/gguf-py")

DTYPES = {"F16": np.float16, "F32": np.float32, "BF16": np.uint16}


def read_safetensors(path):
    """Yields (name, numpy array view) for every tensor in one safetensors file (memory-mapped)."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
    base = 8 + n
    mm = np.memmap(path, dtype=np.uint8, mode="r")
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = info["dtype"]
        if dtype not in DTYPES:
            raise SystemExit(f"{path}: tensor {name} has unsupported dtype {dtype}")
        begin, end = info["data_offsets"]
        raw = mm[base + begin:base + end].view(DTYPES[dtype]).reshape(info["shape"])
        if dtype == "BF16":
            raw = (raw.astype(np.uint32) << 16).view(np.float32)
        yield name, raw


def permute(w, n_head, n_head_kv):
    # convert_hf_to_gguf.py, LlamaModel.permute
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return (w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:])
            .swapaxes(1, 2)
            .reshape(w.shape))


def gguf_name(hf, n_layer):
    fixed = {
        "model.embed_tokens.weight": "token_embd.weight",
        "model.norm.weight": "output_norm.weight",
        "lm_head.weight": "output.weight",
    }
    if hf in fixed:
        return fixed[hf]
    per_layer = {
        "self_attn.q_proj.weight": "attn_q.weight",
        "self_attn.k_proj.weight": "attn_k.weight",
        "self_attn.v_proj.weight": "attn_v.weight",
        "self_attn.o_proj.weight": "attn_output.weight",
        "mlp.gate_proj.weight": "ffn_gate.weight",
        "mlp.up_proj.weight": "ffn_up.weight",
        "mlp.down_proj.weight": "ffn_down.weight",
        "input_layernorm.weight": "attn_norm.weight",
        "post_attention_layernorm.weight": "ffn_norm.weight",
    }
    parts = hf.split(".", 3)
    if len(parts) == 4 and parts[0] == "model" and parts[1] == "layers" and parts[3] in per_layer:
        i = int(parts[2])
        if 0 <= i < n_layer:
            return f"blk.{i}.{per_layer[parts[3]]}"
    raise SystemExit(f"unexpected tensor {hf}")


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: make_gguf_f16.py MODEL_DIR OUT.gguf")
    model_dir, out = Path(sys.argv[1]), Path(sys.argv[2])
    cfg = json.loads((model_dir / "config.json").read_text())
    n_layer = cfg["num_hidden_layers"]
    n_head = cfg["num_attention_heads"]
    n_head_kv = cfg.get("num_key_value_heads", n_head)
    n_embd = cfg["hidden_size"]
    n_vocab = cfg["vocab_size"]

    w = gguf.GGUFWriter(str(out), "llama")
    w.add_name(model_dir.name)
    w.add_context_length(cfg.get("max_position_embeddings", 2048))
    w.add_embedding_length(n_embd)
    w.add_block_count(n_layer)
    w.add_feed_forward_length(cfg["intermediate_size"])
    w.add_head_count(n_head)
    w.add_head_count_kv(n_head_kv)
    w.add_rope_dimension_count(n_embd // n_head)
    w.add_rope_freq_base(float(cfg.get("rope_theta", 10000.0)))
    w.add_layer_norm_rms_eps(float(cfg.get("rms_norm_eps", 1e-5)))
    w.add_vocab_size(n_vocab)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_F16)

    tokens, types = [], []
    for i in range(n_vocab):
        if i == 0:
            tokens.append("<unk>"); types.append(gguf.TokenType.UNKNOWN)
        elif i in (1, 2):
            tokens.append("<s>" if i == 1 else "</s>"); types.append(gguf.TokenType.CONTROL)
        elif i < 3 + 256:
            tokens.append(f"<0x{i - 3:02X}>"); types.append(gguf.TokenType.BYTE)
        else:
            tokens.append(f"tok{i}"); types.append(gguf.TokenType.NORMAL)
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores([0.0] * n_vocab)
    w.add_token_types(types)
    w.add_bos_token_id(cfg.get("bos_token_id", 1))
    w.add_eos_token_id(cfg.get("eos_token_id", 2))
    w.add_unk_token_id(0)

    index = model_dir / "model.safetensors.index.json"
    if index.is_file():
        shards = sorted(set(json.loads(index.read_text())["weight_map"].values()))
    else:
        shards = ["model.safetensors"]
    count = 0
    for shard in shards:
        for name, t in read_safetensors(model_dir / shard):
            if name.endswith("rotary_emb.inv_freq"):
                continue
            dst = gguf_name(name, n_layer)
            if name.endswith("q_proj.weight"):
                t = permute(t, n_head, n_head)
            elif name.endswith("k_proj.weight"):
                t = permute(t, n_head, n_head_kv)
            t = t.astype(np.float32) if t.ndim == 1 else t.astype(np.float16, copy=False)
            w.add_tensor(dst, t)
            count += 1

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file(progress=False)
    w.close()
    print(f"{out}: {count} tensors, {out.stat().st_size} bytes")


if __name__ == "__main__":
    main()
