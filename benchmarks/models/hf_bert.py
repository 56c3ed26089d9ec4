"""Hugging Face BERT from a tiny config (random init), keyword inputs with a padded attention mask."""
import torch
import transformers

ENV = "hf"


def build():
    torch.manual_seed(0)
    config = transformers.BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                     intermediate_size=37, max_position_embeddings=64)
    model = transformers.BertModel(config)
    ids = torch.randint(5, 100, (2, 12))
    mask = torch.ones(2, 12, dtype=torch.long)
    mask[1, 9:] = 0
    return model, (), {"input_ids": ids, "attention_mask": mask}


def tracelint_examples():
    import tracelint

    model, args, kwargs = build()
    yield tracelint.Example(model, args, kwargs=kwargs, name="bert")
