"""A generated order-dependent sentiment task, shared by the pipeline and CLI tests."""

from __future__ import annotations

import random

FILLER = "the film was a plot and it so really story".split()


def order_task(n: int, seed: int, max_filler: int = 6) -> list[tuple[str, str]]:
    """``n`` (text, label) pairs: 2..max_filler filler words with "good" and "bad" both inserted,
    in a random order, at random places; the label is the sentiment word that comes *last*.

    Every text holds the same bag of sentiment words, so a bag-of-words model is at chance
    (~50%); a recurrent model has to read the order (and remember it over the filler after it).
    """
    r = random.Random(seed)
    rows = []
    for _ in range(n):
        words = [r.choice(FILLER) for _ in range(r.randint(2, max_filler))]
        first, last = r.sample(["good", "bad"], 2)
        i = r.randint(0, len(words))
        words.insert(i, first)
        words.insert(r.randint(i + 1, len(words)), last)
        rows.append((" ".join(words), "pos" if last == "good" else "neg"))
    return rows
