package harness

import (
	"fmt"
	"net"
	"os"
	"runtime"
	"time"

	"github.com/vishvananda/netns"
	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
)

// Ping sends one ICMP echo to ip from inside the network namespace at
// nsPath ("" for the host's) and waits up to 2 s for the reply.
func Ping(nsPath, ip string) error {
	conn, err := icmpSocket(nsPath)
	if err != nil {
		return err
	}
	defer conn.Close()
	id := os.Getpid() & 0xffff
	msg := icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{ID: id, Seq: 1, Data: []byte("berth")}}
	b, err := msg.Marshal(nil)
	if err != nil {
		return err
	}
	if _, err := conn.WriteTo(b, &net.IPAddr{IP: net.ParseIP(ip)}); err != nil {
		return fmt.Errorf("ping %s: %w", ip, err)
	}
	conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 1500)
	for {
		n, peer, err := conn.ReadFrom(buf)
		if err != nil {
			return fmt.Errorf("ping %s from %q: %w", ip, nsPath, err)
		}
		reply, err := icmp.ParseMessage(1, buf[:n])
		if err != nil || reply.Type != ipv4.ICMPTypeEchoReply || peer.String() != ip {
			continue
		}
		if echo, ok := reply.Body.(*icmp.Echo); ok && echo.ID == id {
			return nil
		}
	}
}

// icmpSocket opens a raw ICMP socket in the namespace at nsPath: a socket
// belongs to the namespace its thread was in when it was created.
func icmpSocket(nsPath string) (*icmp.PacketConn, error) {
	if nsPath == "" {
		return icmp.ListenPacket("ip4:icmp", "0.0.0.0")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		return nil, err
	}
	defer orig.Close()
	target, err := netns.GetFromPath(nsPath)
	if err != nil {
		return nil, err
	}
	defer target.Close()
	if err := netns.Set(target); err != nil {
		return nil, err
	}
	defer netns.Set(orig)
	return icmp.ListenPacket("ip4:icmp", "0.0.0.0")
}
