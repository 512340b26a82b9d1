SUMMARY = "Mount units for lockd's data partition and the boot partition"
DESCRIPTION = "Mounts the data partition (label data) at /var/lib/lockd and \
the boot partition (label boot) at /boot/firmware, by label, so the same \
units work on both root file-system slots, and makes lockd.service wait \
for its data."
# The layer is part of lockd, and under its licence.
LICENSE = "Apache-2.0"
LIC_FILES_CHKSUM = "file://${COMMON_LICENSE_DIR}/Apache-2.0;md5=89aea4e17d99a7cacdbeed46a0096b10"

SRC_URI = " \
    file://var-lib-lockd.mount \
    file://boot-firmware.mount \
    file://10-lockd-data.conf \
"
S = "${UNPACKDIR}"

inherit allarch systemd features_check

# fsck.fat for the boot partition's fsck before it is mounted.
# boot-firmware.mount gives the boot partition to user lockd (uid=lockd),
# which the lockd package creates.
RDEPENDS:${PN} = "dosfstools lockd"
REQUIRED_DISTRO_FEATURES = "systemd"

SYSTEMD_SERVICE:${PN} = "var-lib-lockd.mount boot-firmware.mount"

do_install() {
    install -d ${D}${systemd_system_unitdir}/lockd.service.d
    install -m 0644 ${S}/var-lib-lockd.mount ${S}/boot-firmware.mount ${D}${systemd_system_unitdir}/
    install -m 0644 ${S}/10-lockd-data.conf ${D}${systemd_system_unitdir}/lockd.service.d/
    install -d ${D}/var/lib/lockd ${D}/boot/firmware
}

FILES:${PN} += "${systemd_system_unitdir} /var/lib/lockd /boot/firmware"
