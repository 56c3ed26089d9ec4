"""Hugging Face transformers models built from tiny configs (random init, no download): every
size field of the default config shrunk (2 layers, hidden 32, 4 heads...), `use_cache=False`
(a Cache object cannot leave a trace), otherwise the defaults (outputs are ModelOutput dicts, the default attention
implementation). Inputs are keyword tensors (`input_ids`, `attention_mask`, `pixel_values`...)."""
from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import torch  # noqa: E402

from spec import Inputs, ModelSpec, images, tokens  # noqa: E402

LIBRARIES = ["transformers", "diffusers"]

_SCALARS = {
    "hidden_size": 32, "d_model": 32, "n_embd": 32, "embed_dim": 32, "embedding_size": 32,
    "word_embed_proj_dim": 32, "projection_dim": 32, "proj_dim": 32,
    "intermediate_size": 64, "ffn_dim": 64, "encoder_ffn_dim": 64, "decoder_ffn_dim": 64, "d_ff": 64,
    "n_inner": 64, "inner_hidden_size": 64, "mlp_dim": 64, "moe_intermediate_size": 32,
    "shared_expert_intermediate_size": 32, "dim_feedforward": 64,
    "num_hidden_layers": 2, "n_layer": 2, "num_layers": 2, "encoder_layers": 2, "decoder_layers": 2,
    "n_layers": 2, "num_decoder_layers": 2, "num_encoder_layers": 2,
    "num_attention_heads": 4, "n_head": 4, "encoder_attention_heads": 4, "decoder_attention_heads": 4,
    "num_heads": 4, "n_heads": 4,
    "num_key_value_heads": 2, "num_experts": 4, "num_local_experts": 4, "n_routed_experts": 4,
    "num_experts_per_tok": 2, "head_dim": 8, "d_kv": 8, "attention_head_size": 8,
    "max_source_positions": 32, "num_mel_bins": 16, "image_size": 64,
    "conv_dim_last": 32,
}
_FIELDS_KEEP_NONE = {"num_key_value_heads", "head_dim", "projection_dim"}


def _lists(key: str, value):
    n = len(value)
    if key in ("depths", "layers_block_type"):
        return [1] * n
    if key in ("hidden_sizes", "embed_dims", "neck_hidden_sizes"):
        return [16 * 2 ** i for i in range(n)]
    if key in ("num_heads", "num_attention_heads") and all(isinstance(v, int) for v in value):
        return [1 * 2 ** i for i in range(n)]
    if key in ("conv_dim",):
        return [32] * n
    return None


def _shrink(config_cls) -> dict:
    default = config_cls()
    values = default.to_dict()
    kwargs: dict = {}
    for key, value in values.items():
        if key in _SCALARS and isinstance(value, int) and not isinstance(value, bool):
            kwargs[key] = _SCALARS[key]
        elif key in _SCALARS and value is None and key not in _FIELDS_KEEP_NONE:
            continue
        elif isinstance(value, (list, tuple)) and value and all(isinstance(v, int) for v in value):
            shrunk = _lists(key, value)
            if shrunk is not None:
                kwargs[key] = shrunk
    for name, sub_cls in (getattr(config_cls, "sub_configs", None) or {}).items():
        if isinstance(sub_cls, type):
            try:
                kwargs[name] = _shrink(sub_cls)
            except Exception:  # noqa: BLE001 - keep the default sub-config
                pass
    return kwargs


def _text(vocab):
    return tokens(vocab)


def _seq2seq(vocab, decoder_name="decoder_input_ids"):
    def extra(b, n, seed):
        g = torch.Generator().manual_seed(seed + 100)
        return {decoder_name: torch.randint(3, vocab, (b, max(2, n // 2)), generator=g)}
    return tokens(vocab, extra=extra)


# model type -> (input kind, config overrides)
MODELS: dict[str, tuple[str, dict]] = {
    # encoders
    "bert": ("text", {}), "roberta": ("text", {}), "distilbert": ("text", {"dim": 32, "hidden_dim": 64}),
    "albert": ("text", {}), "electra": ("text", {}), "deberta": ("text", {}), "deberta-v2": ("text", {}),
    "mpnet": ("text", {}),     "mobilebert": ("text", {"embedding_size": 32, "intra_bottleneck_size": 32, "true_hidden_size": 32}),
    "convbert": ("text", {}), "longformer": ("text", {"attention_window": [4, 4]}),
    "big_bird": ("text", {"attention_type": "original_full"}), "xlnet": ("text", {}),
    "layoutlm": ("text", {}), "canine": ("text", {}), "squeezebert": ("text", {}),
    "xlm-roberta": ("text", {}), "camembert": ("text", {}), "ernie": ("text", {}),
    "modernbert": ("text", {"global_attn_every_n_layers": 2}), "rembert": ("text", {"input_embedding_size": 32, "output_embedding_size": 32}),
    # decoders
    "gpt2": ("text", {}), "gpt_neo": ("text", {"attention_types": [[["global", "local"], 1]]}),
    "gptj": ("text", {"rotary_dim": 4}), "gpt_neox": ("text", {}), "opt": ("text", {}),
    "bloom": ("text", {}), "falcon": ("text", {}), "llama": ("text", {}), "mistral": ("text", {}),
    "mixtral": ("text", {}), "qwen2": ("text", {}), "qwen2_moe": ("text", {}), "qwen3": ("text", {}),
    "qwen3_moe": ("text", {}), "gemma": ("text", {}), "gemma2": ("text", {}), "gemma3_text": ("text", {}),
    "phi": ("text", {}), "phi3": ("text", {}), "starcoder2": ("text", {}), "olmo": ("text", {}),
    "olmo2": ("text", {}), "stablelm": ("text", {}), "codegen": ("text", {"rotary_dim": 4}),
    "gpt_bigcode": ("text", {}), "mpt": ("text", {}), "cohere": ("text", {}), "granite": ("text", {}),
    "persimmon": ("text", {}), "ctrl": ("text", {}), "xglm": ("text", {}), "biogpt": ("text", {}),
    "mamba": ("text", {"state_size": 4}), "rwkv": ("text", {"attention_hidden_size": 32}),
    "jamba": ("text", {"attn_layer_period": 2, "attn_layer_offset": 1, "expert_layer_period": 2, "expert_layer_offset": 1}),
    # encoder-decoders
    "t5": ("seq2seq", {}), "mt5": ("seq2seq", {}), "bart": ("seq2seq", {}), "mbart": ("seq2seq", {}),
    "pegasus": ("seq2seq", {}), "marian": ("seq2seq", {}), "m2m_100": ("seq2seq", {}),
    "blenderbot": ("seq2seq", {}), "led": ("seq2seq", {"attention_window": [4, 4]}),
    "prophetnet": ("seq2seq", {}), "longt5": ("seq2seq", {}), "umt5": ("seq2seq", {}),
    "whisper": ("whisper", {}),
    # audio
    "wav2vec2": ("audio", {}), "hubert": ("audio", {}), "wavlm": ("audio", {}), "data2vec-audio": ("audio", {}),
    # vision
    "vit": ("vision", {"patch_size": 8}), "deit": ("vision", {"patch_size": 8}),
    "beit": ("vision", {"patch_size": 8}), "dinov2": ("vision", {"patch_size": 8}),
    "vit_mae": ("vision", {"patch_size": 8}), "swin": ("vision", {"embed_dim": 16, "image_size": 224}),
    "swinv2": ("vision", {"embed_dim": 16}), "convnext": ("vision", {}), "convnextv2": ("vision", {}),
    "resnet": ("vision", {"embedding_size": 16}), "regnet": ("vision", {}), "mobilevit": ("vision", {}),
    "mobilenet_v2": ("vision", {}), "segformer": ("vision", {}), "levit": ("vision", {}),
    "poolformer": ("vision", {}), "efficientnet": ("vision", {}), "yolos": ("vision", {"patch_size": 8, "num_detection_tokens": 4}),
    "detr": ("vision", {"use_timm_backbone": False, "use_pretrained_backbone": False, "num_queries": 8}),
    "focalnet": ("vision", {"embed_dim": 16}), "pvt_v2": ("vision", {}), "dpt": ("vision", {"patch_size": 8}),
    "hiera": ("vision", {}), "siglip_vision_model": ("vision", {"patch_size": 8}),
    # multimodal
    "clip": ("clip", {}), "siglip": ("clip", {}), "owlvit": ("clip", {}),
}


def ids() -> list[str]:
    return sorted(MODELS)


def versions() -> dict[str, str]:
    import diffusers
    import transformers
    return {"torch": torch.__version__, "transformers": transformers.__version__, "diffusers": diffusers.__version__}


def make_config(model_type: str):
    from transformers import AutoConfig
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING
    config_cls = CONFIG_MAPPING[model_type]
    kwargs = _shrink(config_cls)
    kwargs.update(MODELS[model_type][1])
    kwargs.update(use_cache=False)
    config = config_cls(**kwargs)
    layers = getattr(config, "num_hidden_layers", None)
    types = getattr(config, "layer_types", None)
    if isinstance(types, list) and isinstance(layers, int) and len(types) != layers:
        config.layer_types = types[:layers]
    del AutoConfig
    return config


def _vocab(config) -> int:
    text = getattr(config, "text_config", None) or config
    return int(getattr(text, "vocab_size", 99) or 99)


def spec(model_type: str) -> ModelSpec:
    kind = MODELS[model_type][0]
    config = make_config(model_type)
    sid = f"transformers/{model_type}"

    def build():
        from transformers import AutoModel
        torch.manual_seed(0)
        return AutoModel.from_config(config)

    if kind == "text":
        example, variants = _text(_vocab(config))
    elif kind == "seq2seq":
        example, variants = _seq2seq(_vocab(config))
    elif kind == "vision":
        side = getattr(config, "image_size", 64)
        side = side if isinstance(side, int) else (side[0] if isinstance(side, (list, tuple)) else 64)
        example, variants = images(size=(side, side), other_size=(side + 32, side + 32), name="pixel_values")
    elif kind == "whisper":
        frames = 2 * config.max_source_positions

        def make(b, seed, scale=1.0):
            g = torch.Generator().manual_seed(seed)
            return Inputs(kwargs={"input_features": torch.randn(b, config.num_mel_bins, frames, generator=g) * scale,
                                  "decoder_input_ids": torch.randint(3, config.vocab_size, (b, 5), generator=g)})
        example = make(2, 0)
        variants = {"batch1": make(1, 1), "batch3": make(3, 2), "values": make(2, 3, 3.0)}
    elif kind == "audio":
        def make(b, n, seed, scale=1.0):
            g = torch.Generator().manual_seed(seed)
            return Inputs(kwargs={"input_values": torch.randn(b, n, generator=g) * scale})
        example = make(2, 1600, 0)
        variants = {"batch1": make(1, 1600, 1), "batch3": make(3, 1600, 2), "length": make(2, 2400, 4),
                    "values": make(2, 1600, 3, 3.0)}
    elif kind == "clip":
        vision = config.vision_config
        side = vision.image_size if isinstance(vision.image_size, int) else 64

        def pixels(b, n, seed):
            g = torch.Generator().manual_seed(seed + 50)
            return {"pixel_values": torch.randn(b, 3, side, side, generator=g)}
        example, variants = tokens(_vocab(config), extra=pixels)
    else:
        raise ValueError(kind)
    return ModelSpec(sid, "transformers", build, example, variants)
