"""User permission applications (第二十五条, 附件3) and the accounts they open, change and revoke."""
