"""The alarm types of the spec's appendix: (stable code, English name, Chinese name,
severity). The migration 0014_alarms seeds the same rows ("Call failed" appears twice in the
appendix: one type); tests/alarms/test_types.py checks the two agree.

"Device offline" is not in the appendix: it is what the ACS itself raises for a device that
missed its periodic Informs.
"""

CRITICAL, MAJOR, MINOR = "critical", "major", "minor"
SEVERITIES = (CRITICAL, MAJOR, MINOR)

TYPES = [
    ("poor_call_quality", "Poor call quality", "通话质量差", CRITICAL),
    ("register_failure", "Register failure", "注册失败", CRITICAL),
    ("upgrade_firmware_failure", "Upgrade firmware failure", "固件升级失败", CRITICAL),
    ("update_configuration_failure", "Update configuration failure", "配置更新失败", CRITICAL),
    ("application_crash", "Application crash", "应用程序崩溃", CRITICAL),
    ("application_no_response", "Application no response", "应用程序无响应", CRITICAL),
    ("kernel_panic", "Kernel panic", "内核崩溃", CRITICAL),
    ("exit_program", "Exit program", "程序退出", CRITICAL),
    ("call_failed", "Call failed", "呼叫失败", MINOR),
    ("visual_voicemail_retrieve_failure", "Visual voicemail retrieve failure",
     "可视语音信箱获取失败", MINOR),
    ("hold_failure", "Hold failure", "保持失败", MINOR),
    ("resume_failure", "Resume failure", "恢复通话失败", MINOR),
    ("play_visual_voicemail_failed", "Play visual voicemail failed", "播放可视语音信箱失败",
     MINOR),
    ("rtp_violate", "RTP violate", "RTP 违规", MINOR),
    ("rtp_address_change", "RTP address change", "RTP 地址变更", MINOR),
    ("rtp_dead", "RTP dead", "RTP 中断", MINOR),
    ("srtp_failure", "SRTP failure", "SRTP 失败", MINOR),
    ("calllog_retrieve_failure", "Calllog retrieve failure", "通话记录获取失败", MINOR),
    ("outlook_contact_retrieve_failure", "Outlook contact retrieve failure",
     "Outlook 联系人获取失败", MINOR),
    ("bluetooth_paired_failed", "Bluetooth paired failed", "蓝牙配对失败", MINOR),
    ("calendar_synchronization_failure", "Calendar synchronization failure", "日历同步失败",
     MAJOR),
    ("device_reboot", "Device reboot", "设备重启", MAJOR),
    ("meet_now_failure", "Meet now failure", "立即会议失败", MAJOR),
    ("btoe_pairing_failure", "BToE pairing failure", "BToE 配对失败", MAJOR),
    ("exchange_discovery_failure", "Exchange discovery failure", "Exchange 发现失败", MAJOR),
    ("device_offline", "Device offline", "设备离线", MAJOR),
]

# For these the alarm asks the device for its log (spec: "Only when the alarm of the
# application crash, the application no response or the kernel panic raises can you download
# the corresponding alarm log").
LOG_TYPES = frozenset({"application_crash", "application_no_response", "kernel_panic"})
CODES = frozenset(code for code, *_ in TYPES)
