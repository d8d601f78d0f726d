"""The teaching demo: households deciding month by month, on a page for a classroom.

``model.py`` is the page's model (the Mesa engine with the teacher's settings on top of a
scenario) and its plain words; ``trace.py`` and ``why.py`` tell why a family left; ``charts.py``
draws cheaply; ``app.py`` is the page (``solara run demo.app``, or ``repatriation demo``), built
from ``controls.py`` and the tabs' views. It imports ``sim`` only.
"""
