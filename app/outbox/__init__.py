"""The outbox: every e-mail the portal sends, as a row written with the change that caused it.

``services`` queues (``queue_email``), ``jobs`` delivers and retries, ``mailer`` speaks to the
transport, ``links`` signs what an e-mail carries (links, reply addresses, Message-IDs), ``events``
tells the modules above when an e-mail will never arrive. A platform module: it imports only the
kernel (config, extensions, db types, caching, unit of work) and other platform modules (tenancy,
jobs, storage, i18n, security), so that accounts, tickets, notifications and mail intake all send
mail downward (docs/adr/0004-outbox-for-all-mail.md).
"""
