"""ERP connectors: pull customers, open items and payments; push write-backs (#18).

Typed and database-free like the file import: a connector translates the ERP's
payloads into the values of `o2c_desktop.sync.erp.base` and reports every bad
record as a `Problem` naming its ERP id. `o2c_desktop.services.erp_sync`
applies a pull; the outbox's ERP performer pushes write-backs.
"""
