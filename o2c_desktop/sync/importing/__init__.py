"""Import of aged balances: any ERP's export to normalized open items (#3).

Reads files, recognises layouts, parses values column-wise and reports every
problem. No database here: `o2c_desktop.services.importing` applies the result.
"""
