"""One playbook per complaint category: the steps of design.md section 2, as workflow code."""
