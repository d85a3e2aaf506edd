"""What the books announce to the floors above, which the books may not import.

`book_changed` is sent inside the transaction that reassigns or assigns an account, with
`people` ({person id: (first day, last day)}: whose book changed, over which days) and
`cause` (the words naming the change). The pay's floor receives it (connected in
`payouts.apps`) and recomputes those figures once the transaction commits.
"""

from django.dispatch import Signal

book_changed = Signal()
