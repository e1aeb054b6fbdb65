"""Corpus sources and dataset shards for the model; installed as ``sidlang.corpus``."""
