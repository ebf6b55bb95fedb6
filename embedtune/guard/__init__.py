"""The general-domain guard: base and finetuned also scored on an out-of-domain source, so a run
shows what finetuning cost outside its domain (`--guard-data SOURCE`)."""
