"""What every figure of the reports shares: the colours.

Okabe and Ito's palette stays distinguishable with the common forms of colour blindness.
"""

OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]


def documented_point(ax, x: float, y: float, low: float, high: float, **style) -> None:
    """A documented figure at (x, y), with its tolerance band [low, high] as an error bar."""
    ax.errorbar([x], [y], yerr=[[y - low], [high - y]], color="black", capsize=4, **style)


def matplotlib_pyplot():
    """matplotlib's pyplot on the Agg backend (files only, no screen), imported when needed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
