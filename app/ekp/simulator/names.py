"""Name pools for generated data: Chinese characters paired with their pinyin, so login names look real."""

from __future__ import annotations

SURNAMES: tuple[tuple[str, str], ...] = tuple(
    tuple(pair.split(":"))  # type: ignore[misc]
    for pair in (
        "王:wang 李:li 张:zhang 刘:liu 陈:chen 杨:yang 黄:huang 赵:zhao 吴:wu 周:zhou 徐:xu 孙:sun 马:ma 朱:zhu "
        "胡:hu 郭:guo 何:he 高:gao 林:lin 罗:luo 郑:zheng 梁:liang 谢:xie 宋:song 唐:tang 许:xu 韩:han 冯:feng "
        "邓:deng 曹:cao 彭:peng 曾:zeng 肖:xiao 田:tian 董:dong 袁:yuan 潘:pan 于:yu 蒋:jiang 蔡:cai 余:yu 杜:du "
        "叶:ye 程:cheng 苏:su 魏:wei 吕:lv 丁:ding 任:ren 沈:shen 姚:yao 卢:lu 姜:jiang 崔:cui 钟:zhong 谭:tan "
        "陆:lu 汪:wang 范:fan 金:jin 石:shi 廖:liao 贾:jia 夏:xia 韦:wei 付:fu 方:fang 白:bai 邹:zou 孟:meng "
        "熊:xiong 秦:qin 邱:qiu 江:jiang 尹:yin 薛:xue 闫:yan 段:duan 雷:lei 侯:hou 龙:long 史:shi 陶:tao 黎:li "
        "贺:he 顾:gu 毛:mao 郝:hao 龚:gong 邵:shao 万:wan 钱:qian 严:yan 覃:qin 武:wu 戴:dai 莫:mo 孔:kong "
        "欧阳:ouyang 司马:sima 上官:shangguan"
    ).split()
)

GIVEN: tuple[tuple[str, str], ...] = tuple(
    tuple(pair.split(":"))  # type: ignore[misc]
    for pair in (
        "伟:wei 芳:fang 娜:na 敏:min 静:jing 丽:li 强:qiang 磊:lei 军:jun 洋:yang 勇:yong 艳:yan 杰:jie 娟:juan "
        "涛:tao 明:ming 超:chao 秀:xiu 霞:xia 平:ping 刚:gang 桂:gui 英:ying 华:hua 玉:yu 兰:lan 萍:ping 红:hong "
        "鹏:peng 辉:hui 建:jian 国:guo 文:wen 斌:bin 宇:yu 浩:hao 凯:kai 俊:jun 帆:fan 琳:lin 晨:chen 欣:xin "
        "怡:yi 佳:jia 子:zi 轩:xuan 涵:han 梓:zi 睿:rui 博:bo 雪:xue 婷:ting 倩:qian 颖:ying 慧:hui 琪:qi 瑶:yao "
        "思:si 雨:yu 晓:xiao 阳:yang 志:zhi 诚:cheng 嘉:jia 宁:ning 远:yuan 航:hang 天:tian 然:ran 泽:ze 昊:hao "
        "铭:ming 欢:huan 悦:yue 彤:tong 楠:nan 旭:xu 东:dong 海:hai 波:bo 峰:feng 林:lin 成:cheng 新:xin 立:li "
        "毅:yi 龙:long 云:yun 鑫:xin 岩:yan 蕾:lei 莉:li 薇:wei 璐:lu 晶:jing 园:yuan 启:qi 迪:di 奕:yi 智:zhi"
    ).split()
)

FUNCTIONS = (
    "研发中心 产品中心 市场部 销售部 财务部 人力资源部 行政部 法务部 客户服务部 运营中心 信息技术部 采购部 "
    "质量管理部 供应链中心 战略发展部 品牌部 审计部 投资部 生产中心 物流部"
).split()
REGIONS = (
    "华东大区 华南大区 华北大区 西南大区 西北大区 华中大区 东北大区 北京分公司 上海分公司 深圳分公司 杭州分公司 "
    "成都分公司 武汉分公司 南京分公司 西安分公司 广州分公司"
).split()
UNITS = (
    "前端组 后端组 测试组 平台组 数据组 架构组 运维组 算法组 安全组 招聘组 薪酬组 培训组 综合组 项目一部 项目二部 "
    "项目三部 渠道部 大客户部 电商部 直营部 售前组 售后组 结算组 核算组 资金组 税务组 设计组 交付组 实施组 支持组"
).split()
TEAMS = "一组 二组 三组 四组 五组 六组 七组 八组 九组 十组".split()
POST_TITLES = "经理 副经理 主管 负责人 总监".split()
STAFFING_LEVELS = (("专员", 1), ("高级专员", 2), ("主管", 3), ("经理", 4), ("总监", 5))
COMPANY_NAME = "叮当科技有限公司"
EMAIL_DOMAIN = "dingdang.example.com"
