"""Pages of the help desk, one module per part (tickets, SLA settings, knowledge base and help
centre, the assistant, reports): parse the request, call a service or selector, render."""
