"""Notifications (第十八条, 第二十一条): the liaison register, and the e-mails and SMS that reach the people it names."""
