"""Weight merging: the saved model as a linear interpolation of the base and the finetuned model
(LM-Cocktail-style), with `auto` choosing the ratio on validation and the general-domain guard."""
