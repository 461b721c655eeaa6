"""Each complaint category's decisions and words, as pure functions the workflow playbooks call."""
