"""Pure text analytics for survey comments: keyword tagging and TF-IDF clustering (NMF or k-means)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from sklearn.cluster import KMeans
from sklearn.decomposition import NMF
from sklearn.feature_extraction.text import TfidfVectorizer


def keyword_matches(text: str, keywords: list[str]) -> bool:
    """Whether a comment mentions any keyword (case-insensitive, on word boundaries at the keyword's start)."""
    lowered = text.lower()
    return any(re.search(r"(?<![a-z0-9])" + re.escape(k), lowered) for k in keywords if k)


def tag_comments(texts: list[str], themes: dict[str, list[str]]) -> list[set[str]]:
    """The set of theme names each comment matches."""
    return [{name for name, words in themes.items() if keyword_matches(text, words)} for text in texts]


@dataclass
class Clustering:
    """Cluster label per comment (−1 when the comment has no usable term) and the top terms of each cluster."""

    labels: list[int]
    top_terms: list[list[str]]
    method: str


def cluster_comments(texts: list[str], *, n_clusters: int = 6, method: str = "nmf", top_n: int = 8, seed: int = 0):
    """Group comments by topic: TF-IDF on words and word pairs, then NMF topics or k-means clusters.

    Fewer distinct comments than clusters shrink the number of clusters; an empty or term-less corpus gives no
    clusters. Deterministic for a given seed.
    """
    if method not in ("nmf", "kmeans"):
        raise ValueError("method must be 'nmf' or 'kmeans'")
    docs = [t.strip() for t in texts]
    if sum(1 for d in set(docs) if d) < 2:
        return Clustering(labels=[-1] * len(docs), top_terms=[], method=method)
    vectorizer = TfidfVectorizer(stop_words="english", ngram_range=(1, 2), min_df=1, max_df=0.9, sublinear_tf=True)
    try:
        matrix = vectorizer.fit_transform(docs)
    except ValueError:  # only stop words
        return Clustering(labels=[-1] * len(docs), top_terms=[], method=method)
    terms = np.array(vectorizer.get_feature_names_out())
    k = max(1, min(n_clusters, len(set(docs)) - 1, matrix.shape[1]))
    empty = np.asarray(matrix.sum(axis=1)).ravel() == 0
    if method == "nmf":
        model = NMF(n_components=k, init="nndsvda", random_state=seed, max_iter=400)
        weights = model.fit_transform(matrix)
        labels = weights.argmax(axis=1)
        centers = model.components_
    else:
        model = KMeans(n_clusters=k, random_state=seed, n_init=10)
        labels = model.fit_predict(matrix)
        centers = model.cluster_centers_
    # Rank more terms than are kept: merging "rough" into "rough edges" and dropping covered pairs shrinks the list.
    ranked = [list(terms[np.argsort(center)[::-1][: top_n * 3]]) for center in centers]
    top_terms = [distinct_terms(r)[:top_n] for r in ranked]
    labels = np.where(empty, -1, labels)
    return Clustering(labels=[int(x) for x in labels], top_terms=top_terms, method=method)


def distinct_terms(ranked: list[str]) -> list[str]:
    """Top terms with each word once, best first.

    A term sharing a word with a better term that it does not extend is dropped; a phrase that extends better
    single words ("rough" → "rough edges") takes the place of the first of them.
    ["rough", "rough edges", "edges", "fine", "fine rough"] → ["rough edges", "fine"].
    """
    kept: list[str] = []
    for raw in ranked:
        term = " ".join(dict.fromkeys(raw.split()))  # "fine fine" (from "Fine, fine") is "fine"
        words = set(term.split())
        if term in kept:
            continue
        extended = [i for i, k in enumerate(kept) if set(k.split()) < words]
        others = {w for i, k in enumerate(kept) if i not in extended for w in k.split()}
        if words & others:
            continue
        if extended:
            kept[extended[0]] = term
            for i in reversed(extended[1:]):
                del kept[i]
        else:
            kept.append(term)
    return kept


def cluster_label(terms: list[str], *, size: int = 3) -> str:
    """A readable name for a cluster from its top terms: the best distinct ones, each word once, sentence case.

    ["rough", "rough edges", "edges", "fine", "fine rough"] → "Rough edges · Fine".
    """
    phrases = distinct_terms(terms)[:size]
    return " · ".join(p[:1].upper() + p[1:] for p in phrases)
