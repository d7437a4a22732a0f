"""The pure-Python backend of alvh: numpy + scipy.special kernels with the same
functions, signatures and semantics as the compiled module ``alvh._native``.

`alvh._core.backend` imports `alvh._fallback.kernels` when the backend is ``"python"``
(``alvh.use_backend("python")`` or ``ALVH_BACKEND=python``), or when the wheel's
extension module is missing.
"""
