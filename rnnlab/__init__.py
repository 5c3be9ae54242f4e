"""rnnlab: verify by computation the theory of unitary and identity-like ReLU RNNs.

Subpackages (arrows point one way: analysis <- capacity, dynamics <- training <- cli):

- :mod:`rnnlab.analysis`  numerical rank with evidence, unitarity / definiteness errors.
- :mod:`rnnlab.capacity`  unitary parameterizations and the Jacobian rank of each.
- :mod:`rnnlab.dynamics`  recurrent initialisers, ReLU maps, fixed points, portraits.
- :mod:`rnnlab.training`  cells, tasks, optimisers and experiment runs.
"""

__version__ = "0.1.0"
