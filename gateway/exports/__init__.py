"""Data exports co-signed by the poverty office (会签局脱贫办, 第二十七条): requested, co-signed, downloaded once."""
