"""The registries of people (外部信息), 建档立卡贫困人口 and 财政供养人员: imported files, the province's updates,
and a person's entries, which payments are judged against."""
