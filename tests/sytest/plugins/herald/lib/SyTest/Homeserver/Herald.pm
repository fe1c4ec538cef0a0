# SyTest plugin: one Herald homeserver instance (see
# SyTest::HomeserverFactory::Herald). Written for Herald; our own code.
#
# What this sets up for each instance (index N, directory server-N/):
#   - ports from SyTest's pool (--port-range, default 8800:8899):
#       client_port      Herald listener, plain HTTP: SyTest's client-API
#                        traffic, and the identity server's onbind callback
#       federation_port  HTTPS, as SyTest requires; server_name is
#                        "<bind_host>:<federation_port>".  Herald serves it
#                        itself: a listener {tls: true, resources:
#                        [federation]} with tls.crt / tls.key below as
#                        tls_certificate_path / tls_private_key_path.
#       backend_port     only with --herald-tls-proxy (the old set-up, from
#                        before Herald had TLS listeners): the plugin then
#                        terminates TLS on federation_port itself and forwards
#                        the bytes to a plain-HTTP Herald listener here.
#   - tls.crt / tls.key for <bind_host>, signed by SyTest's CA keys/ca.crt
#     (via SyTest::SSL, i.e. openssl, as SyTest's Synapse plugin does), and
#     federation_custom_ca_list: [keys/ca.crt] so that Herald's outbound
#     federation (key fetches, notary) trusts SyTest's own servers and the
#     other Herald
#   - herald.yaml (or .json) in Herald's real configuration format (see
#     config/homeserver.example.yaml in Herald, `herald generate-config`)
#   - a fresh database (the old one is deleted before each start)
#   - server stdout/stderr appended to server-N/herald.log
#   - started as: <binary> homeserver --config server-N/herald.yaml

use strict;
use warnings;

package SyTest::Homeserver::Herald;
use base qw( SyTest::Homeserver );

use Carp;
use Cwd qw( getcwd abs_path );
use File::Path qw( remove_tree make_path );
use IO::Async::Listener;
use IO::Async::Stream;
use IO::Async::SSL;
use JSON ();
use Socket qw( inet_ntoa );
use YAML::XS ();

use SyTest::SSL qw( ensure_ssl_key create_ssl_cert );

sub _init
{
   my $self = shift;
   my ( $args ) = @_;

   $self->{$_} = delete $args->{$_} for qw(
      binary binary_args impl_name config_format extra_config tls_client
      tls_proxy trust_local_is print_output filter_output wait_for
   );

   # tests/05homeserver.pl computes hs_dir with abs_path(), which gives undef
   # when --work-directory does not exist yet: refuse rather than write to /.
   defined $args->{hs_dir} and length $args->{hs_dir} or
      croak "SyTest --work-directory must exist before the run (hs_dir is undefined)";

   $self->SUPER::_init( $args );

   my $idx = $self->{hs_index};
   $self->{ports} = {
      client     => main::alloc_port( "herald[$idx].client" ),
      federation => main::alloc_port( "herald[$idx].federation" ),
      $self->{tls_proxy} ? ( backend => main::alloc_port( "herald[$idx].federation-backend" ) ) : (),
   };
   $self->{paths} = {};
}

sub configure
{
   my $self = shift;
   my %params = @_;

   exists $params{$_} and $self->{$_} = delete $params{$_} for qw(
      print_output filter_output
   );

   $self->SUPER::configure( %params );
}

sub server_name
{
   my $self = shift;
   return $self->{bind_host} . ":" . $self->federation_port;
}

sub federation_host { $_[0]->{bind_host} }
sub federation_port { $_[0]->{ports}{federation} }
sub client_port     { $_[0]->{ports}{client} }

sub public_baseurl
{
   my $self = shift;
   return $self->{tls_client}
      ? "https://$self->{bind_host}:" . $self->federation_port
      : "http://$self->{bind_host}:" . $self->client_port;
}

# Herald's listeners take an IP literal (boost make_address), not a host name.
sub _bind_ip
{
   my $self = shift;
   my $host = $self->{bind_host};
   return $host if $host =~ m/^[0-9.]+$/ or $host =~ m/:/;
   my $packed = gethostbyname( $host );   # IPv4, as SyTest's own servers use
   return $packed ? inet_ntoa( $packed ) : "127.0.0.1";
}

sub start
{
   my $self = shift;

   my $hs_dir = $self->{hs_dir};
   my $output = $self->{output};
   my $idx    = $self->{hs_index};

   # Fresh state for every run.
   unlink "$hs_dir/$_" for qw( herald.db herald.db-wal herald.db-shm herald.log );
   remove_tree( "$hs_dir/media_store" ) if -d "$hs_dir/media_store";

   # TLS cert for <bind_host>, signed by SyTest's CA (keys/ca.crt, relative
   # to the SyTest checkout, which is the cwd of run-tests.pl).
   my $sytest_dir = getcwd;
   -f "$sytest_dir/keys/ca.crt" or
      return Future->fail( "run-tests.pl must be run from the SyTest checkout (no keys/ca.crt in $sytest_dir)" );

   $self->{paths}{tls_cert} = "$hs_dir/tls.crt";
   $self->{paths}{tls_key}  = "$hs_dir/tls.key";
   ensure_ssl_key( $self->{paths}{tls_key} );
   create_ssl_cert( $self->{paths}{tls_cert}, $self->{paths}{tls_key}, $self->{bind_host} );

   $self->{paths}{ca_cert} = "$sytest_dir/keys/ca.crt";
   $self->{paths}{log}     = "$hs_dir/herald.log";

   my $config = $self->_herald_config;
   if( defined( my $extra = $self->{extra_config} ) ) {
      $config = _merge( $config, YAML::XS::LoadFile( $extra ) );
   }

   if( ( $self->{config_format} // "yaml" ) eq "json" ) {
      $self->{paths}{config} = $self->write_file( "herald.json",
         JSON->new->canonical->pretty->encode( $config ) );
   }
   else {
      $self->{paths}{config} = $self->write_yaml_file( "herald.yaml", $config );
   }

   # What SyTest asked for, whatever Herald's config can express: for adapters
   # (adapters/synapse-adapter.py) and for people reading a failed run.
   $self->write_yaml_file( "sytest-context.yaml", {
      server_name      => $self->server_name,
      bind_ip          => $self->_bind_ip,
      client_port      => $self->client_port,
      federation_port  => $self->federation_port,
      tls_proxy        => $self->{tls_proxy} ? JSON::true : JSON::false,
      $self->{tls_proxy} ? ( federation_backend_port => $self->{ports}{backend} ) : (),
      tls_cert         => $self->{paths}{tls_cert},
      tls_key          => $self->{paths}{tls_key},
      ca_cert          => $self->{paths}{ca_cert},
      registration_shared_secret => "reg_secret",
      app_service_config_files => $self->{app_service_config_files} // [],
      smtp_server      => $self->{smtp_server_config}
         ? { host => $self->{smtp_server_config}{host}, port => $self->{smtp_server_config}{port} } : undef,
      recaptcha        => $self->{recaptcha_config},
      cas              => $self->{cas_config},
   } );

   my %subst = (
      config          => $self->{paths}{config},
      hs_dir          => $hs_dir,
      server_name     => $self->server_name,
      bind_host       => $self->{bind_host},
      client_port     => $self->client_port,
      federation_port => $self->federation_port,
      tls_cert        => $self->{paths}{tls_cert},
      tls_key         => $self->{paths}{tls_key},
      ca_cert         => $self->{paths}{ca_cert},
      index           => $idx,
      sytest_dir      => $sytest_dir,
   );
   my @args = @{ $self->{binary_args} // [] };
   @args = ( "homeserver", "--config", "{config}" ) unless @args;
   s/\{(\w+)\}/exists $subst{$1} ? $subst{$1} : "{$1}"/ge for @args;

   # The child runs in server-N/, so resolve the binary now: relative paths
   # against SyTest's cwd, bare names via $PATH.
   my $binary = $self->{binary};
   if( $binary =~ m{/} ) {
      $binary = abs_path( $binary ) // $binary;
   }
   else {
      ( $binary ) = grep { -x } map { "$_/$binary" } split m/:/, $ENV{PATH} // "";
      $binary //= $self->{binary};
   }
   -x $binary or
      return Future->fail( "Homeserver binary '$self->{binary}' is not executable" );

   my @command = ( $binary, @args );

   open my $logfh, ">>", $self->{paths}{log} or
      return Future->fail( "Cannot open $self->{paths}{log} - $!" );
   $logfh->autoflush( 1 );
   $self->{log_fh} = $logfh;

   $output->diag( "Starting herald[$idx]: @command" );

   my %env = ( %ENV, HERALD_SYTEST => 1, HERALD_INDEX => $idx );
   {
      # Herald's outbound HTTPS to identity servers verifies certificates
      # against OpenSSL's default paths; SyTest's identity server uses
      # keys/tls-selfsigned.crt. (Federation trusts keys/ca.crt through
      # federation_custom_ca_list instead.)
      my $bundle = "$hs_dir/ca-bundle.pem";
      open my $out, ">", $bundle or return Future->fail( "Cannot write $bundle - $!" );
      foreach my $pem ( "/etc/ssl/certs/ca-certificates.crt", "$sytest_dir/keys/tls-selfsigned.crt" ) {
         open my $in, "<", $pem or next;
         local $/; print $out scalar <$in>;
      }
      close $out;
      $env{SSL_CERT_FILE} = $bundle;
   }

   my %proc = (
      setup => [
         chdir => $hs_dir,
         env   => \%env,
      ],
      command => \@command,
      name    => "herald-$idx",
   );

   my $f = ( $self->{wait_for} // "connect" ) eq "notify"
      ? $self->_start_process_and_await_notify( %proc )
      : $self->_start_process_and_await_connectable( %proc,
           connect_host => $self->{bind_host},
           connect_port => $self->client_port,
        );

   return $f->then( sub {
      return Future->done unless $self->{tls_proxy};
      $self->await_connectable( $self->_bind_ip, $self->{ports}{backend} )
         ->then( sub { $self->_start_tls_proxy } );
   })->then( sub {
      # the federation port must be up too, or nothing federates
      $self->await_connectable( $self->{bind_host}, $self->federation_port );
   })->on_done( sub {
      $output->diag( "Started herald[$idx]: client http://$self->{bind_host}:" . $self->client_port
         . ", federation https://" . $self->server_name
         . ( $self->{tls_proxy} ? " (TLS proxy -> http://" . $self->_bind_ip . ":$self->{ports}{backend})"
                                : " (Herald's own TLS)" ) );
   })->else( sub {
      my ( $failure ) = @_;
      Future->fail( "Unable to start herald[$idx]: $failure (see $self->{paths}{log})" );
   });
}

# --herald-tls-proxy only: TLS terminator on federation_port -> Herald's plain
# listener on backend_port, byte for byte (what a deployment's reverse proxy
# does). Kept for comparing Herald's TLS with a terminator in front.
sub _start_tls_proxy
{
   my $self = shift;
   my $ip = $self->_bind_ip;
   my $backend_port = $self->{ports}{backend};

   my $listener = IO::Async::Listener->new(
      on_stream => sub {
         my ( undef, $tls ) = @_;
         $self->_proxy_connection( $tls, $ip, $backend_port );
      },
   );
   $self->add_child( $listener );
   $self->{tls_listener} = $listener;

   $listener->listen(
      host          => $ip,
      service       => $self->federation_port,
      socktype      => "stream",
      extensions    => [ "SSL" ],
      SSL_cert_file => $self->{paths}{tls_cert},
      SSL_key_file  => $self->{paths}{tls_key},
      # bare TCP probes (await_connectable) end the handshake with EOF
      on_ssl_error  => sub { },
   );
}

sub _proxy_connection
{
   my $self = shift;
   my ( $tls, $ip, $port ) = @_;

   my ( $backend, @pending, $client_eof, $tls_closed, $backend_closed );
   my $close_tls     = sub { $tls->close_when_empty unless $tls_closed++ };
   my $close_backend = sub { $backend->close_when_empty if $backend and !$backend_closed++ };

   $tls->configure(
      close_on_read_eof => 0,
      on_read => sub {
         my ( undef, $buffref, $eof ) = @_;
         if( length $$buffref ) {
            $backend ? $backend->write( $$buffref ) : push @pending, $$buffref;
            $$buffref = "";
         }
         if( $eof ) {
            $client_eof = 1;
            $close_backend->();
         }
         return 0;
      },
      on_closed      => sub { $tls_closed = 1; $close_backend->() },
      on_read_error  => sub { $close_tls->(); $close_backend->() },
      on_write_error => sub { $close_tls->(); $close_backend->() },
   );
   $self->add_child( $tls );

   my $f = $self->loop->connect(
      host => $ip, service => $port, socktype => "stream",
   )->on_done( sub {
      my ( $sock ) = @_;
      $backend = IO::Async::Stream->new(
         handle => $sock,
         close_on_read_eof => 0,
         on_read => sub {
            my ( undef, $buffref, $eof ) = @_;
            $tls->write( $$buffref ) if length $$buffref and !$tls_closed;
            $$buffref = "";
            if( $eof ) { $close_backend->(); $close_tls->() }
            return 0;
         },
         on_closed      => sub { $backend_closed = 1; $close_tls->() },
         on_read_error  => sub { $close_backend->(); $close_tls->() },
         on_write_error => sub { $close_backend->(); $close_tls->() },
      );
      $self->add_child( $backend );
      $backend->write( $_ ) for @pending;
      @pending = ();
      $close_backend->() if $client_eof;
   })->on_fail( sub {
      $close_tls->();
   });
   $f->on_ready( sub { undef $f } );   # keep it alive until it completes
}

sub _kill_tls_proxy
{
   my $self = shift;
   my $listener = delete $self->{tls_listener} or return;
   $listener->remove_from_parent if $listener->parent;
}

sub kill_and_await_finish
{
   my $self = shift;
   $self->_kill_tls_proxy;
   $self->SUPER::kill_and_await_finish( @_ );
}

# Server output: always to herald.log; to the terminal with -S (optionally
# filtered by --server-grep); the last 20 lines are printed if it dies.
sub _on_output_line
{
   my $self = shift;
   my ( $proc_info, $line ) = @_;

   if( my $fh = $self->{log_fh} ) {
      print $fh "$line\n";
   }

   my $lines = $proc_info->output_lines;
   push @$lines, $line;
   shift @$lines while @$lines > 20;

   my $filter = $self->{filter_output};
   my $show = $proc_info->print_output ||
      ( $self->{print_output} && ( !$filter || $line =~ m/$filter/ ) );

   print STDERR "\e[1;35m[${\ $proc_info->name }]\e[m: $line\n" if $show;
}

# Herald's rate-limited actions (src/core/rate_limiter.h, RateAction; the
# homeserver's parser accepts every name).
use constant HERALD_RATE_ACTIONS => qw(
   login login_address registration message room_creation join joins_per_room
   invites_per_room invites_per_user invites_per_issuer third_party_invite
   account_data presence federation
);

# The config Herald is started with, in Herald's own format: only keys Herald
# knows (it refuses unknown keys). What SyTest wants but Herald has no key for
# is listed below, so nobody looks for it in this file.
sub _herald_config
{
   my $self = shift;

   my $hs_dir = $self->{hs_dir};
   my $ip     = $self->_bind_ip;

   my @listeners = (
      {  # SyTest's client API traffic; also the identity server's
         # /_matrix/federation/v1/3pid/onbind callback, which SyTest's fake
         # IS POSTs to the *client* base URL (so federation here too)
         bind_address => $ip, port => $self->client_port, tls => JSON::false,
         resources => [qw( client federation )],
      },
      $self->{tls_proxy}
         ? {  # behind the plugin's TLS terminator on federation_port
              bind_address => $ip, port => $self->{ports}{backend}, tls => JSON::false,
              resources => [qw( federation )],
           }
         : {  # Herald's own TLS, with SyTest's certificate
              bind_address => $ip, port => $self->federation_port, tls => JSON::true,
              resources => [qw( federation )],
           },
   );

   # SyTest hammers the server: every bucket at 1000/s, burst 1000 (as
   # SyTest's Synapse config does), rather than 'enabled: false', so the
   # limiter code still runs.
   my %rate_limits = (
      enabled => JSON::true,
      map { $_ => { per_second => 1000, burst => 1000 } } HERALD_RATE_ACTIONS,
   );

   # Not expressible in Herald's config (no such feature or no key), so not
   # written: guest access, room-directory publication rules,
   # require_membership_for_aliases, application services
   # (app_service_config_files), SMTP, recaptcha, CAS, the sync response cache.
   return {
      server_name    => $self->server_name,     # "<bind_host>:<federation_port>"
      public_baseurl => $self->public_baseurl,
      listeners      => \@listeners,
      # SyTest's certificate for <bind_host>, signed by its CA; only read when
      # a listener has tls: true (not with --herald-tls-proxy)
      $self->{tls_proxy} ? () : (
         tls_certificate_path => $self->{paths}{tls_cert},
         tls_private_key_path => $self->{paths}{tls_key},
      ),
      # Federation peers (SyTest's own federation servers, the other Herald)
      # present certificates signed by SyTest's CA; they are checked against it
      # (as SyTest's Synapse config does), not accepted blindly.
      federation_verify_certificates => JSON::true,
      federation_custom_ca_list => [ $self->{paths}{ca_cert} ],
      # Keys are fetched from each server directly (Synapse: perspectives: {})
      trusted_key_servers => [],
      database => {
         backend => "sqlite",
         path    => "$hs_dir/herald.db",
      },
      signing_key_path => "$hs_dir/signing.key",  # created when missing
      registration => { enabled => JSON::true },  # open, UIA with m.login.dummy
      rate_limits  => \%rate_limits,
      # Any identity server a client names is reached over HTTPS (SyTest's
      # fake one on loopback: whitelisted here, its self-signed certificate in
      # the SSL_CERT_FILE bundle above; that client is not federation and does
      # not read federation_custom_ca_list). --herald-trust-local-is still lists every
      # local port explicitly, as before Herald took client-chosen servers.
      trusted_identity_servers => $self->{trust_local_is} ? _local_identity_servers( $self->{bind_host} ) : {},
      # every SyTest server is on loopback, which Herald's outbound guard
      # refuses by default (identity servers and federation alike)
      ip_range_whitelist => [ "127.0.0.0/8", "::1/128" ],
      # SyTest was written against Synapse's default room version (10): its
      # tests read m.room.create's 'creator', which rooms of version 11 and
      # later no longer have. Herald's own default is 12.
      default_room_version => "10",
      log_level => "debug",
   };
}

# --herald-trust-local-is: SyTest's fake identity server listens on a port the
# kernel picks (tests/07id-server.pl, service ""), a new one per test, and the
# tests name it as id_server "<bind_host>:<port>". Herald only talks to the
# identity servers listed in trusted_identity_servers, so this lists every
# port of the kernel's ephemeral range (null: https://<name>).
sub _local_identity_servers
{
   my ( $host ) = @_;
   my ( $lo, $hi ) = ( 32768, 60999 );
   if( open my $fh, "<", "/proc/sys/net/ipv4/ip_local_port_range" ) {
      ( $lo, $hi ) = split ' ', scalar <$fh>;
   }
   return { map { ( "$host:$_" => undef ) } $lo .. $hi };
}

sub _merge
{
   my ( $base, $over ) = @_;
   return $over unless ref $base eq "HASH" and ref $over eq "HASH";
   my %out = %$base;
   $out{$_} = _merge( $base->{$_}, $over->{$_} ) for keys %$over;
   return \%out;
}

1;
