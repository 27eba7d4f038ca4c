"""The test suite, a package so that tests import shared builders as ``tests.helpers`` (see conftest.py).

Layers: ``unit/`` (functions and single classes, no Trainer), ``integration/`` (training with a Trainer),
``cli/`` (the ``gan-lightning`` commands and the benchmark scripts).
"""
