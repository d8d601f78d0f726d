"""Parameter sweeps: the sweep file and its design (``spec.py``), the store on disk
(``store.py``), and the resumable run on local processes or a Dask cluster (``runner.py``)."""
