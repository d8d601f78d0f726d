"""Letters of hardship and what households believe of the North: the news part of the rule.

Belief that life in the North is good (0..1) is raised by propaganda (exposure x intensity) and
lowered by published bad news and by the letters of hardship a household takes in: from its
neighbours who left (each weighing less as time passes, ``letter_retention``), heard of from the
whole community and along ties (``hearsay_letters``, ``heard_along_ties``), taken in less by
households tied to Soren (``letter_trust``). Pure functions of arrays, as in ``decision.py``,
which imports them so that the whole rule reads from one module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .schema import Process
from .values import any_positive, as_float32, float32_of

if TYPE_CHECKING:
    from .decision import Policy


def updated_belief(
    belief: np.ndarray,
    soren_tie: np.ndarray,
    policy: Policy,
    p: Process,
    letters: np.ndarray | None = None,
    out: np.ndarray | None = None,
    scratch: np.ndarray | None = None,
) -> np.ndarray:
    """Belief that life in the North is good (0..1) after a month of propaganda, publication and
    letters; written into ``out`` if given (it may be ``belief`` itself).

    Propaganda pulls belief towards 1 in proportion to exposure (media for everyone, more through
    Soren ties); published bad news pulls it towards 0 for everyone; each of the ``letters`` of
    hardship the household received this month (``letters_received``; None while no letter
    tells of hardship) keeps a share exp(-letter_learning) of its distance from what the letters
    say: letter_anchoring x (1 - bad_news), the share of letters that do not tell of hardship
    (0 by default: belief is pulled toward 0). Belief stays within 0..1 however many letters
    come; propaganda holds it where its pull balances the letters' (and restores it if fewer
    letters tell of hardship). ``scratch``: a float32 array of the letters' shape to work in (it
    may be ``letters`` itself, which is then overwritten).
    """
    f32 = as_float32
    exposure = f32(p.media_exposure) + f32(1.0 - p.media_exposure) * soren_tie
    gain = f32(p.propaganda_learning * policy.propaganda) * exposure  # share of disbelief won
    loss = p.publication_learning * policy.letters_published * policy.bad_news  # of belief lost
    # belief + gain (1 - belief) - loss belief, rearranged so that it can be written into `out`
    out = np.multiply(belief, 1.0 - gain - f32(loss), out=out)
    out += gain
    if letters is not None:
        kept = np.multiply(letters, f32(-p.letter_learning), out=scratch)
        kept = np.exp(kept, out=kept) if isinstance(kept, np.ndarray) else np.exp(kept)
        if any_positive(p.letter_anchoring):
            # what the letters say, as a belief: the share of them not telling of hardship
            said = float32_of(p.letter_anchoring * (1.0 - policy.bad_news))
            out -= said
            out *= kept
            out += said
        else:
            out *= kept
    return out


def letters_received(
    letter_sources: np.ndarray,
    bad_news: float,
    heard: np.ndarray | float = 0.0,
    trust: np.ndarray | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Letters of hardship a household takes in this month: ``bad_news`` (the share of letters
    that tell of hardship) of one letter from each neighbour who left, weighted by how much it is
    still remembered (``letter_sources``), and of those ``heard`` second-hand
    (``hearsay_letters``); times the household's ``trust`` in them (``letter_trust``; None: all).
    Written into ``out`` if given (float32, of the shape of ``letter_sources``; it may be
    ``heard``)."""
    share = float32_of(bad_news)
    letters = np.add(letter_sources, heard, out=out)
    letters = np.multiply(letters, share, out=out)  # share x (sources + heard): a x b is b x a
    return letters if trust is None else np.multiply(letters, trust, out=out)


def letter_retention(p: Process) -> np.float32:
    """What remains each month of the weight of a departed neighbour's letters (1: they never
    fade; the engines multiply ``letter_sources`` by it at the start of every month)."""
    return float32_of(1.0 - p.letter_fading)


def letter_trust(soren_tie: np.ndarray, p: Process) -> np.ndarray | None:
    """How much of the letters of hardship a household takes in: 1 - letter_discount x its Soren
    tie, so the committed core discounts them (None when nobody does: all are taken in)."""
    if not any_positive(p.letter_discount):
        return None
    return 1.0 - as_float32(p.letter_discount) * soren_tie


def hearsay_letters(
    letter_sources: np.ndarray, hearsay: float, along_ties: float = 0.0
) -> np.ndarray:
    """Letters a household hears of from the whole community, the same for every household.

    Word of the returnees' letters is taken to spread through family and Soren networks, not
    only to the returnees' neighbours (a modelling assumption: no document says how far; 002:
    word spread "through family and Soren networks"). Each household hears ``hearsay`` times
    the letters that an average household of its replication gets directly, i.e. the mean of
    ``letter_sources`` (departed neighbours, weighted by how much their letters are still
    remembered) over the last axis (households), summed in float64; of that, the share
    ``along_ties`` comes along ties instead (``heard_along_ties``). Shape: the input's, with a
    last axis of length 1; float32.
    """
    counts = np.asarray(letter_sources)
    mean = np.sum(counts, axis=-1, dtype=np.float64, keepdims=True) / counts.shape[-1]
    return ((hearsay * (1.0 - along_ties)) * mean).astype(np.float32)


def heard_along_ties(
    heard: np.ndarray, second_hand: np.ndarray, degree: np.ndarray, p: Process, out=None
) -> np.ndarray:
    """``heard`` (from the whole community) plus the letters that come along ties: the share
    ``hearsay_along_ties`` of ``hearsay`` times the letters one's neighbours got directly, per
    neighbour (``second_hand``: the departed neighbours of one's neighbours, weighted by how much
    their letters are still remembered, over one's ``degree``, float32). A household whose
    neighbours' neighbours left hears more; one in a community nobody left hears less. Written
    into ``out`` if given (float32, of the shape of ``second_hand``)."""
    along = as_float32(p.hearsay * p.hearsay_along_ties)
    told = np.multiply(second_hand, along, out=out)
    told = np.divide(told, degree, out=out)
    return np.add(heard, told, out=out)
