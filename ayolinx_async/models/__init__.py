"""Typed request and response models, one module per product plus the shared value types.

The contract is the union of the modules' ``__all__``: a name is declared once, where it lives.
"""

from . import _common, _ewallet, _payment_link, _qris, _retail, _virtual_account
from ._common import *  # noqa: F403
from ._ewallet import *  # noqa: F403
from ._payment_link import *  # noqa: F403
from ._qris import *  # noqa: F403
from ._retail import *  # noqa: F403
from ._virtual_account import *  # noqa: F403

__all__: list[str] = []
__all__ += _common.__all__
__all__ += _ewallet.__all__
__all__ += _payment_link.__all__
__all__ += _qris.__all__
__all__ += _retail.__all__
__all__ += _virtual_account.__all__
