"""The teaching demo: households deciding month by month on a Mesa SolaraViz page.

``model.py`` is the page's model (the Mesa engine with the teacher's sliders on top of a
scenario) and its plain-words texts; ``app.py`` is the page (``solara run demo.app``, or
``repatriation demo``). It imports ``sim`` only.
"""
