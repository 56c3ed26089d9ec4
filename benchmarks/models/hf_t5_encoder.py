"""Hugging Face T5 encoder from a tiny config (random init), keyword inputs with a padded mask."""
import torch
import transformers

ENV = "hf"


def build():
    torch.manual_seed(0)
    config = transformers.T5Config(vocab_size=100, d_model=32, d_kv=8, d_ff=37, num_layers=2, num_heads=2,
                                   decoder_start_token_id=0)
    model = transformers.T5EncoderModel(config)
    ids = torch.randint(5, 100, (2, 12))
    mask = torch.ones(2, 12, dtype=torch.long)
    mask[1, 10:] = 0
    return model, (), {"input_ids": ids, "attention_mask": mask}


def tracelint_examples():
    import tracelint

    model, args, kwargs = build()
    yield tracelint.Example(model, args, kwargs=kwargs, name="t5_encoder")
